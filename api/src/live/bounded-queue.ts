/**
 * An async-iterable queue with a hard bound: when full, the oldest item is dropped and counted,
 * so a subscriber that reads slowly costs at most `capacity` items, never an unbounded backlog.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private done = false;
  /** Items dropped since the last `takeDropped()`. */
  private droppedSince = 0;
  droppedTotal = 0;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: (n: number) => void = () => undefined,
    private readonly onClose: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.size >= this.capacity) {
      this.head++;
      this.droppedSince++;
      this.droppedTotal++;
      this.onDrop(1);
    }
    this.items.push(item);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Returns and resets the count of items dropped since the previous call. */
  takeDropped(): number {
    const n = this.droppedSince;
    this.droppedSince = 0;
    return n;
  }

  /** Takes the oldest item without waiting (for readers driven by something other than `next`). */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const value = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return value;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) return Promise.resolve({ value: this.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends the iteration; items still queued are discarded. */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.head = 0;
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
    this.onClose();
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
