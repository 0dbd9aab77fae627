// `time` on xsrun: Moddable's Time.ticks, monotonic milliseconds (documentation/base/time.md).
export default {
  get ticks() {
    return xsrun.now();
  },
};
