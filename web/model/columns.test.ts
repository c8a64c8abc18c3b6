import { describe, expect, it } from "vitest";
import { ColumnRing, countValues } from "./columns.ts";

const rows = (r: ColumnRing) => r.view().map((c) => Array.from(c));

describe("ColumnRing", () => {
  it("keeps one x column and one column per series, the same length, oldest first", () => {
    const r = new ColumnRing(4, [false, true]);
    r.push(10, [1, null]);
    r.push(20, [2, 5]);
    expect(r.length).toBe(2);
    expect(rows(r)).toEqual([[10, 20], [1, 2], [null, 5]]);
    const v = r.view();
    expect(v[0]).toBeInstanceOf(Float64Array);
    expect(v[1]).toBeInstanceOf(Float64Array);
    expect(Array.isArray(v[2])).toBe(true);
  });

  it("drops the oldest rows past its capacity and stays contiguous across the wrap", () => {
    const r = new ColumnRing(3, [false]);
    for (let i = 1; i <= 7; i++) r.push(i, [i * 10]);
    expect(r.length).toBe(3);
    expect(rows(r)).toEqual([[5, 6, 7], [50, 60, 70]]);
    expect(r.firstX).toBe(5);
    expect(r.lastX).toBe(7);
  });

  it("hands out views of its storage without copying gap-free columns", () => {
    const r = new ColumnRing(8, [false]);
    for (let i = 0; i < 5; i++) r.push(i, [i]);
    const [x] = r.view() as Float64Array[];
    expect(x!.buffer.byteLength).toBe(16 * 8);
  });

  it("adds a gap column later with nulls for the rows it already holds", () => {
    const r = new ColumnRing(4, [false]);
    r.push(1, [1]);
    r.addColumn(true);
    r.push(2, [2, 9]);
    expect(rows(r)).toEqual([[1, 2], [1, 2], [null, 9]]);
    expect(() => r.addColumn(false)).toThrow(/gaps/);
  });

  it("truncates the newest rows from an x on, and can take new rows after", () => {
    const r = new ColumnRing(3, [false]);
    for (let i = 1; i <= 5; i++) r.push(i, [i]);
    r.truncateFrom(4);
    expect(rows(r)).toEqual([[3], [3]]);
    r.push(10, [10]);
    r.push(11, [11]);
    r.push(12, [12]);
    expect(rows(r)).toEqual([[10, 11, 12], [10, 11, 12]]);
    r.truncateFrom(0);
    expect(r.length).toBe(0);
    expect(r.firstX).toBeUndefined();
  });

  it("rejects a row of the wrong width and a capacity that is not a positive integer", () => {
    const r = new ColumnRing(2, [false, false]);
    expect(() => r.push(1, [1])).toThrow(/expected 2 values/);
    expect(() => new ColumnRing(0)).toThrow(RangeError);
  });

  it("clear() empties it", () => {
    const r = new ColumnRing(2, [false]);
    r.push(1, [1]);
    r.clear();
    expect(rows(r)).toEqual([[], []]);
  });
});

describe("countValues", () => {
  it("counts finite values of every series, not x, not gaps", () => {
    expect(countValues([new Float64Array([1, 2, 3]), [1, null, 3], new Float64Array([NaN, 4, 5])])).toBe(4);
    expect(countValues([new Float64Array([1])])).toBe(0);
  });
});
