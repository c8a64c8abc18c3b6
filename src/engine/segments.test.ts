import { describe, expect, it } from "vitest";
import { segmentOf, type Rule } from "./index.ts";

const rules: Rule[] = [
  { name: "tenure", feature: "purchasesTotal", op: ">=", value: 1, then: "returning", else: "new" },
  { name: "cart", feature: "cartValueCents", op: ">", value: 0, then: "abandoner", else: "browser" },
  { name: "deals", feature: "priceSensitivity", op: ">=", value: 0.5, then: "deal-seeker", else: "full-price" },
];

describe("segmentOf", () => {
  it("joins one label per rule", () => {
    expect(segmentOf({ purchasesTotal: 0, cartValueCents: 0, priceSensitivity: 0 }, rules)).toBe("new|browser|full-price");
    expect(segmentOf({ purchasesTotal: 3, cartValueCents: 1200, priceSensitivity: 0.5 }, rules)).toBe("returning|abandoner|deal-seeker");
  });

  it("is 'all' with no rules, and takes the else branch for a missing or non-numeric value", () => {
    expect(segmentOf({}, [])).toBe("all");
    expect(segmentOf({ purchasesTotal: "3" }, rules.slice(0, 1))).toBe("new");
    expect(segmentOf({}, rules.slice(0, 1))).toBe("new");
  });

  it("supports every operator, strings for == and !=", () => {
    const r = (op: Rule["op"], value: number | string): Rule[] => [{ name: "x", feature: "v", op, value, then: "yes", else: "no" }];
    expect(segmentOf({ v: 2 }, r("<", 3))).toBe("yes");
    expect(segmentOf({ v: 3 }, r("<=", 3))).toBe("yes");
    expect(segmentOf({ v: 3 }, r(">", 3))).toBe("no");
    expect(segmentOf({ v: "gold" }, r("==", "gold"))).toBe("yes");
    expect(segmentOf({ v: "gold" }, r("!=", "gold"))).toBe("no");
  });
});
