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
    const r = (op: Exclude<Rule["op"], "label">, value: number | string): Rule[] => [{ name: "x", feature: "v", op, value, then: "yes", else: "no" }];
    expect(segmentOf({ v: 2 }, r("<", 3))).toBe("yes");
    expect(segmentOf({ v: 3 }, r("<=", 3))).toBe("yes");
    expect(segmentOf({ v: 3 }, r(">", 3))).toBe("no");
    expect(segmentOf({ v: "gold" }, r("==", "gold"))).toBe("yes");
    expect(segmentOf({ v: "gold" }, r("!=", "gold"))).toBe("no");
  });

  it("labels by a categorical feature's own value (sanitised), or the else label when it has none", () => {
    const taste: Rule[] = [rules[0]!, { name: "taste", feature: "topCategory", op: "label", else: "none" }];
    expect(segmentOf({ purchasesTotal: 1, topCategory: "electronics" }, taste)).toBe("returning|electronics");
    expect(segmentOf({ purchasesTotal: 0, topCategory: "" }, taste)).toBe("new|none");
    expect(segmentOf({ purchasesTotal: 0, topCategory: "Home & Garden|x" }, taste)).toBe("new|home-garden-x");
  });
});
