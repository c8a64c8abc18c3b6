// Pure: uPlot's columnar data in fixed-size rings (STYLE.md rule 9). No DOM.

/** A column as uPlot takes it: typed when it has no gaps, a plain array with nulls when it has. */
export type Column = Float64Array | (number | null)[];

/**
 * One x column plus `width` value columns, all the same length, at most `capacity` rows; the oldest
 * row goes when a new one comes. Every value is stored twice (at i and i + capacity), so the newest
 * rows are always one contiguous range: view() hands out subarrays of the x column and of gap-free
 * columns without copying. A view is valid until the next push (the chart redraws from a fresh view
 * after every push). Missing values are stored as NaN and come out as null in gap columns.
 */
export class ColumnRing {
  private x: Float64Array;
  private cols: Float64Array[] = [];
  private gaps: boolean[] = [];
  private head = 0;
  private len = 0;

  constructor(
    readonly capacity: number,
    gaps: readonly boolean[] = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.x = new Float64Array(2 * capacity);
    for (const g of gaps) this.addColumn(g);
  }

  get length(): number {
    return this.len;
  }

  get width(): number {
    return this.cols.length;
  }

  /** Adds a value column; rows already held get null there (so it must allow gaps unless empty). */
  addColumn(gaps = true): void {
    if (this.len > 0 && !gaps) throw new Error("a column added to a ring that holds rows must allow gaps");
    this.cols.push(new Float64Array(2 * this.capacity).fill(NaN));
    this.gaps.push(gaps);
  }

  push(x: number, values: readonly (number | null)[]): void {
    if (values.length !== this.cols.length) throw new RangeError(`expected ${this.cols.length} values, got ${values.length}`);
    const i = this.head;
    const j = i + this.capacity;
    this.x[i] = this.x[j] = x;
    for (let c = 0; c < this.cols.length; c++) {
      const v = values[c];
      this.cols[c]![i] = this.cols[c]![j] = v === null || v === undefined ? NaN : v;
    }
    this.head = (i + 1) % this.capacity;
    if (this.len < this.capacity) this.len++;
  }

  /** The oldest x held, or undefined when empty. */
  get firstX(): number | undefined {
    return this.len ? this.x[this.start()] : undefined;
  }

  /** The newest x held, or undefined when empty. */
  get lastX(): number | undefined {
    return this.len ? this.x[(this.head - 1 + this.capacity) % this.capacity] : undefined;
  }

  /** Drops the newest rows whose x is at or after `x`. */
  truncateFrom(x: number): void {
    while (this.len > 0 && this.lastX! >= x) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.len--;
    }
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }

  private start(): number {
    return (this.head - this.len + this.capacity) % this.capacity;
  }

  /** [x, ...columns], oldest row first. */
  view(): Column[] {
    const s = this.start();
    const e = s + this.len;
    const out: Column[] = [this.x.subarray(s, e)];
    for (let c = 0; c < this.cols.length; c++) {
      const col = this.cols[c]!.subarray(s, e);
      if (!this.gaps[c]) out.push(col);
      else {
        const a: (number | null)[] = new Array(this.len);
        for (let k = 0; k < this.len; k++) a[k] = Number.isNaN(col[k]!) ? null : col[k]!;
        out.push(a);
      }
    }
    return out;
  }
}

/** Values actually plotted: finite, non-null entries of every column but x. */
export function countValues(data: readonly Column[]): number {
  let n = 0;
  for (let c = 1; c < data.length; c++) for (const v of data[c]!) if (v !== null && Number.isFinite(v)) n++;
  return n;
}
