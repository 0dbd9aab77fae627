// `timer` on xsrun: Moddable's Timer (documentation/base/timer.md) over the prelude's timers.
//   Timer.set(callback, delay = 0, repeat?)  once after `delay` ms, then every `repeat` ms when given
//   Timer.repeat(callback, interval)         every `interval` ms
//   Timer.clear(id)                          safe with a fired or cleared id
// The callback receives the timer's id, as Moddable's does.
// id -> the prelude handles of that timer; made at the first timer, since a module's top level runs where the M7 image
// prepares its machine in flash (hosts/cortex-m/prepared.c), and a Map made there is read-only.
let live;
const handles = () => (live ??= new Map());

function check(callback) {
  if (typeof callback !== 'function') throw new TypeError('Timer callback must be a function');
}

const Timer = {
  set(callback, delay = 0, repeat) {
    check(callback);
    const id = {};
    if (repeat === undefined) {
      handles().set(id, setTimeout(() => { live.delete(id); callback(id); }, delay));
    } else {
      handles().set(id, setTimeout(() => {
        live.set(id, setInterval(() => callback(id), repeat));
        callback(id);
      }, delay));
    }
    return id;
  },
  repeat(callback, interval) {
    check(callback);
    const id = {};
    handles().set(id, setInterval(() => callback(id), interval));
    return id;
  },
  clear(id) {
    const handle = handles().get(id);
    if (handle === undefined) return;
    live.delete(id);
    clearTimeout(handle);
    clearInterval(handle);
  },
};

export default Timer;
