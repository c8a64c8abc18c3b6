import { describe, expect, it } from "vitest";
import { budgetShare, CHARTS, colorOf, CONTROL_COLOR, fade, newlyExcluded } from "./charts.ts";

describe("chart specs", () => {
  it("has the eight panels, each with a unique id, a heading and a hint", () => {
    expect(CHARTS.map((c) => c.id)).toEqual(["chart-posterior", "chart-uplift", "chart-share", "chart-regret", "chart-stock", "chart-budget", "chart-rate", "chart-latency"]);
    for (const c of CHARTS) {
      expect(c.heading.length).toBeGreaterThan(5);
      expect(c.hint.length).toBeGreaterThan(5);
      expect(Boolean(c.lines) || Boolean(c.arms), c.id).toBe(true);
    }
  });

  it("colours promotions from a palette and control grey", () => {
    expect(colorOf("control", 0)).toBe(CONTROL_COLOR);
    expect(colorOf("a", 0)).not.toBe(colorOf("b", 1));
    expect(fade("#ff0080", 0.5)).toBe("rgba(255,0,128,0.5)");
  });

  it("computes budget burn as spent plus reserved over budget", () => {
    const base = { mean: 0, lo: 0, hi: 0, share: 0, conv: 0, uplift: null, upLo: null, upHi: null, stock: null, excluded: 0 };
    expect(budgetShare({ ...base, budgetCents: 1000, spentCents: 250, reservedCents: 250 })).toBe(0.5);
    expect(budgetShare({ ...base, budgetCents: null, spentCents: null, reservedCents: null })).toBeNull();
    expect(newlyExcluded({ ...base, budgetCents: null, spentCents: null, reservedCents: null, excluded: 3 }, { ...base, budgetCents: null, spentCents: null, reservedCents: null, excluded: 2 })).toBe(true);
    expect(newlyExcluded({ ...base, budgetCents: null, spentCents: null, reservedCents: null, excluded: 3 }, undefined)).toBe(false);
  });
});
