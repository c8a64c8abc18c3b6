import { describe, expect, it } from "vitest";
import { rngFromSeed } from "../../src/random/index.ts";
import { ReorderBuffer } from "./reorder.ts";

type Item = { ts: number; seq: number };

function pass(items: Item[], capacity: number): { out: Item[]; late: number } {
  const b = new ReorderBuffer<Item>(capacity);
  const out: Item[] = [];
  for (const it of items) {
    b.push(it);
    out.push(...b.overflow());
    expect(b.size).toBeLessThanOrEqual(capacity);
  }
  out.push(...b.drain());
  return { out, late: b.late };
}

describe("ReorderBuffer", () => {
  it("sorts exactly when no event is displaced by more than its capacity, keeping file order on ties", () => {
    const rng = rngFromSeed(42);
    // Each event is at most 50 places from its sorted position.
    const items = Array.from({ length: 2000 }, (_, i) => ({ ts: 1_000 * Math.floor((i + rng.next() * 50) / 2), seq: i }));
    const { out, late } = pass(items, 50);
    expect(late).toBe(0);
    expect(out).toHaveLength(items.length);
    for (let i = 1; i < out.length; i++) {
      const a = out[i - 1]!;
      const b = out[i]!;
      expect(a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq)).toBe(true);
    }
  });

  it("lets every event out even when the buffer is too small, counting the ones that arrive late", () => {
    const items = [50, 40, 30, 20, 10, 60, 5].map((ts, seq) => ({ ts, seq }));
    const { out, late } = pass(items, 2);
    expect(out.map((i) => i.ts)).toEqual([30, 20, 10, 40, 5, 50, 60]);
    // 20 and 10 arrive after 30 left; 5 after 40.
    expect(late).toBe(3);
    expect(out).toHaveLength(items.length);
  });

  it("holds nothing with capacity 0 (passes events straight through)", () => {
    const { out, late } = pass([3, 1, 2].map((ts, seq) => ({ ts, seq })), 0);
    expect(out.map((i) => i.ts)).toEqual([3, 1, 2]);
    expect(late).toBe(2);
  });

  it("refuses a capacity that is not a whole number", () => {
    expect(() => new ReorderBuffer(-1)).toThrow(RangeError);
    expect(() => new ReorderBuffer(1.5)).toThrow(RangeError);
  });
});
