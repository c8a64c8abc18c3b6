// Puts events back in event-time order with a bounded buffer: a min-heap on (time, arrival order)
// holding at most `capacity` events. An event leaves only when the buffer is over capacity (then the
// oldest leaves) or at the end of the file, so any event displaced by fewer than `capacity` places
// comes out in order, and memory stays bounded whatever the file's size. An event older than one
// already let out is "late": it still goes out (next, as the oldest held) and is counted, so a
// buffer too small for the file's disorder shows in the summary instead of losing events.
// (The seed clickstream is grouped by user, so its disorder spans the whole file, 74,817 rows: the
// default capacity, 100,000 events, holds it all and sorts it exactly.)
import { Heap } from "heap-js";

export interface Timed {
  ts: number;
  /** Arrival order: ties in time keep the file's order. */
  seq: number;
}

export class ReorderBuffer<T extends Timed> {
  private readonly heap = new Heap<T>((a, b) => a.ts - b.ts || a.seq - b.seq);
  private lastOutTs = -Infinity;
  /** Events that arrived older than one already let out. */
  late = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) throw new RangeError(`capacity must be a whole number ≥ 0, got ${capacity}`);
  }

  get size(): number {
    return this.heap.size();
  }

  push(item: T): void {
    if (item.ts < this.lastOutTs) this.late++;
    this.heap.push(item);
  }

  /** The events that must leave now to hold at most `capacity`, oldest first. */
  *overflow(): Generator<T> {
    while (this.heap.size() > this.capacity) yield this.take();
  }

  /** Everything still held, oldest first (at the end of the input). */
  *drain(): Generator<T> {
    while (this.heap.size() > 0) yield this.take();
  }

  private take(): T {
    const item = this.heap.pop()!;
    if (item.ts > this.lastOutTs) this.lastOutTs = item.ts;
    return item;
  }
}
