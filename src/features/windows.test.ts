import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WindowCounts } from "./index.ts";

const MIN = 60_000;
const H = 60 * MIN;
// A round start so bucket edges are easy to reason about (a multiple of 1 h).
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % H);

describe("WindowCounts", () => {
  it("counts events in the 5-minute, 1-hour and 24-hour windows ending now", () => {
    const w = new WindowCounts();
    w.add("view", T0 + 30 * MIN); // 30 min before now
    w.add("view", T0 + 58 * MIN); // 2 min before now
    w.add("view", T0 + 59 * MIN + 59_000); // now-ish
    w.add("click", T0 + 59 * MIN);
    const now = T0 + 60 * MIN - 1;
    expect(w.count("view", "5m", now)).toBe(2);
    expect(w.count("view", "1h", now)).toBe(3);
    expect(w.count("view", "24h", now)).toBe(3);
    expect(w.count("click", "5m", now)).toBe(1);
    expect(w.count("cart", "24h", now)).toBe(0);
    // An hour later, the 5-minute and 1-hour windows have emptied; the day has not.
    expect(w.count("view", "5m", now + H)).toBe(0);
    expect(w.count("view", "1h", now + H + 30 * MIN)).toBe(0);
    expect(w.count("view", "24h", now + H)).toBe(3);
  });

  it("puts out-of-order events in the window of their own event time", () => {
    const inOrder = new WindowCounts();
    const shuffled = new WindowCounts();
    const times = [0, 1, 2, 3, 4, 7, 11, 20, 45, 50, 59, 90, 130].map((m) => T0 + m * MIN);
    for (const t of times) inOrder.add("cart", t);
    for (const t of [...times].reverse()) shuffled.add("cart", t);
    for (const m of [5, 30, 60, 61, 100, 140, 24 * 60]) {
      const now = T0 + m * MIN;
      for (const win of ["5m", "1h", "24h"] as const) expect(shuffled.count("cart", win, now)).toBe(inOrder.count("cart", win, now));
    }
  });

  it("counts a late event in the long windows even after the short one has moved past it", () => {
    const w = new WindowCounts();
    w.add("purchase", T0 + 30 * MIN);
    // 20 minutes late: beyond the 5-minute ring, inside the 1-hour and 24-hour ones.
    w.add("purchase", T0 + 10 * MIN);
    const now = T0 + 31 * MIN;
    expect(w.count("purchase", "5m", now)).toBe(1);
    expect(w.count("purchase", "1h", now)).toBe(2);
    expect(w.count("purchase", "24h", now)).toBe(2);
  });

  it("does not count events after now (a future bucket is not in the window)", () => {
    const w = new WindowCounts();
    w.add("view", T0 + 10 * MIN);
    expect(w.count("view", "5m", T0 + 8 * MIN)).toBe(0);
    expect(w.count("view", "5m", T0 + 10 * MIN)).toBe(1);
  });

  it("round-trips through its sparse form, which holds only the cells a fresh array lacks", () => {
    const types = ["view", "click", "cart", "purchase"] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 3 * 24 * 60 })), { maxLength: 60 }), (evs) => {
        const w = new WindowCounts();
        for (const [type, minute] of evs) w.add(type, T0 + minute * MIN);
        const cells = w.toSparse();
        expect(Array.from(WindowCounts.fromSparse(cells).data)).toEqual(Array.from(w.data));
        expect(cells.length).toBeLessThanOrEqual(2 * 3 * 5 * Math.max(1, evs.length));
      }),
      { seed: 11, numRuns: 200 },
    );
    expect(new WindowCounts().toSparse()).toEqual([]);
    expect(() => WindowCounts.fromSparse([5])).toThrow(/pairs/);
    expect(() => WindowCounts.fromSparse([10_000, 1])).toThrow(/outside/);
  });
});
