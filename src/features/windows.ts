// Bucketed sliding-window counters in event time. Hand-written core (DEVELOPERS.md): the windows
// must accept out-of-order events and stay a few hundred bytes per customer.
//
// Three levels of ring buffers: 1-minute buckets (5-minute window), 5-minute buckets (1-hour window)
// and 1-hour buckets (24-hour window). A window of W at time now counts the W/width buckets ending with
// the one that holds `now`, so it spans between W − width and W of history (bucket-aligned).

export const COUNTED_TYPES = ["view", "click", "cart", "purchase"] as const;
export type CountedType = (typeof COUNTED_TYPES)[number];
const TYPE_INDEX: Record<string, number> = { view: 0, click: 1, cart: 2, purchase: 3 };

interface Level {
  widthMs: number;
  slots: number;
  windowBuckets: number;
  offset: number; // first slot of this level in the shared array
}

const LEVELS: readonly Level[] = (() => {
  const spec = [
    { widthMs: 60_000, windowBuckets: 5 },
    { widthMs: 300_000, windowBuckets: 12 },
    { widthMs: 3_600_000, windowBuckets: 24 },
  ];
  let offset = 0;
  return spec.map((s) => {
    const l = { ...s, slots: s.windowBuckets + 1, offset };
    offset += l.slots;
    return l;
  });
})();
const SLOTS = LEVELS.reduce((n, l) => n + l.slots, 0);
const NTYPES = COUNTED_TYPES.length;
/** Cells of one customer's counters: the slots' bucket indices, then their counts. */
export const WINDOW_CELLS = SLOTS * (1 + NTYPES);
/** Bucket indices come first in the cells (−1 when empty); counts after (0 when empty). */
export const WINDOW_INDEX_CELLS = SLOTS;
/** The bucket width of each index cell's level, ms (a compact record writes indices relative to the customer's last event). */
export const WINDOW_CELL_WIDTH_MS: readonly number[] = LEVELS.flatMap((l) => new Array<number>(l.slots).fill(l.widthMs));

export const WINDOWS = { "5m": 0, "1h": 1, "24h": 2 } as const;
export type WindowName = keyof typeof WINDOWS;

/**
 * One customer's counters: for each slot, the bucket index it holds, then per type the count.
 * Layout in one Int32Array: [bucketIdx × SLOTS | counts × SLOTS × NTYPES].
 */
export class WindowCounts {
  readonly data: Int32Array;
  constructor(data?: Int32Array) {
    this.data = data ?? new Int32Array(WINDOW_CELLS).fill(-1, 0, SLOTS);
  }

  /**
   * The cells that differ from a fresh array (−1 for bucket indices, 0 for counts) as
   * [index, value, index, value, …]: a few dozen numbers for a typical customer instead of 220, and a
   * checkpoint writes one per cached customer (the dense array made serialising 20× slower).
   */
  toSparse(): number[] {
    const d = this.data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v !== (i < SLOTS ? -1 : 0)) out.push(i, v);
    }
    return out;
  }

  static fromSparse(cells: readonly number[]): WindowCounts {
    const w = new WindowCounts();
    const d = w.data;
    if (cells.length % 2 !== 0) throw new Error(`window cells come in pairs, got ${cells.length} numbers`);
    for (let i = 0; i < cells.length; i += 2) {
      const at = cells[i]!;
      if (!Number.isInteger(at) || at < 0 || at >= d.length) throw new Error(`window cell ${at} is outside 0…${d.length - 1}`);
      d[at] = cells[i + 1]!;
    }
    return w;
  }

  add(type: CountedType, tsMs: number): void {
    const t = TYPE_INDEX[type]!;
    const d = this.data;
    for (const l of LEVELS) {
      const idx = Math.floor(tsMs / l.widthMs);
      const slot = l.offset + (idx % l.slots);
      const held = d[slot]!;
      if (held > idx) continue; // older than this level's ring: outside every window it serves
      if (held < idx) {
        d[slot] = idx;
        for (let k = 0; k < NTYPES; k++) d[SLOTS + slot * NTYPES + k] = 0;
      }
      d[SLOTS + slot * NTYPES + t]!++;
    }
  }

  /** Every type's count in one window, in COUNTED_TYPES order, written into `out` (one pass). */
  countAll(window: WindowName, nowMs: number, out: Int32Array): Int32Array {
    const l = LEVELS[WINDOWS[window]]!;
    const d = this.data;
    const nowIdx = Math.floor(nowMs / l.widthMs);
    const oldest = nowIdx - l.windowBuckets + 1;
    out.fill(0);
    for (let s = 0; s < l.slots; s++) {
      const held = d[l.offset + s]!;
      if (held >= oldest && held <= nowIdx) for (let k = 0; k < NTYPES; k++) out[k]! += d[SLOTS + (l.offset + s) * NTYPES + k]!;
    }
    return out;
  }

  count(type: CountedType, window: WindowName, nowMs: number): number {
    const l = LEVELS[WINDOWS[window]]!;
    const t = TYPE_INDEX[type]!;
    const d = this.data;
    const nowIdx = Math.floor(nowMs / l.widthMs);
    const oldest = nowIdx - l.windowBuckets + 1;
    let n = 0;
    for (let s = 0; s < l.slots; s++) {
      const held = d[l.offset + s]!;
      if (held >= oldest && held <= nowIdx) n += d[SLOTS + (l.offset + s) * NTYPES + t]!;
    }
    return n;
  }
}
