import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RecentIds } from "./recent.ts";

describe("RecentIds", () => {
  it("keeps the last `max` distinct ids in the order they came, like a bounded insertion-ordered set", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"), { maxLength: 60 }), (max, ids) => {
        const r = new RecentIds(max);
        const model: string[] = [];
        for (const [k, id] of ids.entries()) {
          expect(r.has(id)).toBe(model.includes(id));
          // add and tryAdd (the intake's one-probe check) by turns: the same set, tryAdd saying whether it was new.
          if (k % 2) r.add(id);
          else expect(r.tryAdd(id)).toBe(!model.includes(id));
          if (!model.includes(id)) {
            model.push(id);
            if (model.length > max) model.shift();
          }
          expect(r.toArray()).toEqual(model);
          expect(r.size).toBe(model.length);
        }
        r.clear();
        expect(r.toArray()).toEqual([]);
        expect(r.has(ids[0] ?? "a")).toBe(false);
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new RecentIds(0)).toThrow(/positive integer/);
  });
});
