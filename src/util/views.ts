// Views of a typed array cut once and kept: XS allocates a view per subarray() call, and the hot paths (envelope,
// socket and audio adapters) cut the same few lengths again and again.

/** Views of `array` from `start`, one per length, kept for the next call of that length (at most `lengths` of them). */
export class ViewsByLength<T extends Uint8Array | Int16Array = Uint8Array> {
  private readonly views = new Map<number, T>();
  constructor(readonly array: T, private readonly start = 0, private readonly lengths = 8) {}
  of(length: number): T {
    let view = this.views.get(length);
    if (view === undefined) {
      if (this.views.size === this.lengths) this.views.clear();
      view = this.array.subarray(this.start, this.start + length) as T;
      this.views.set(length, view);
    }
    return view;
  }
}

/** `views` when it cuts `array`, else new ones over it: for a caller that passes the same buffer each time. */
export function viewsOver<T extends Uint8Array | Int16Array>(views: ViewsByLength<T> | undefined, array: T): ViewsByLength<T> {
  return views !== undefined && views.array === array ? views : new ViewsByLength(array);
}
