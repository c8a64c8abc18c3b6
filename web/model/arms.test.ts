import { describe, expect, it } from "vitest";
import type { ArmSnapshot, LiveSnapshot } from "../../src/kpi/index.ts";
import { armRows, verdictOf } from "./arms.ts";

const arm = (id: string, mean: number, over: Partial<ArmSnapshot> = {}): ArmSnapshot => ({
  id, name: id, posterior: { alpha: 1, beta: 1, mean, ci95: [mean - 0.1, mean + 0.1] }, decisions: 10, share: 0.5, trials: 8, conversions: 2,
  conversion: { estimate: 0.25, ci95: [0.1, 0.5] }, uplift: null, matchedHoldout: null, marginUplift: null, upliftBySegment: {}, stock: null, budget: null, excluded: {}, guardExclusions: 0, ...over,
});

describe("verdictOf", () => {
  it("reads an uplift interval", () => {
    expect(verdictOf([0.01, 0.05])).toBe("helps");
    expect(verdictOf([-0.05, -0.01])).toBe("hurts");
    expect(verdictOf([-0.01, 0.05])).toBe("unproven");
    expect(verdictOf(undefined)).toBe("no data");
  });
});

describe("armRows", () => {
  it("is empty without a snapshot", () => {
    expect(armRows(null)).toEqual([]);
  });
  it("formats each arm and marks the leader", () => {
    const kpi = {
      arms: [
        arm("a", 0.2, { uplift: { estimate: 0.05, ci95: [0.01, 0.09] }, stock: 12, budget: { budgetCents: 1000, reservedCents: 100, spentCents: 400 }, excluded: { "out-of-stock": 2, "budget-spent": 1, "not-applicable": 40 }, guardExclusions: 3 }),
        arm("control", 0.4, { trials: 0 }),
      ],
    } as unknown as LiveSnapshot;
    const [a, c] = armRows(kpi);
    expect(a).toMatchObject({ id: "a", verdict: "helps", stock: "12", budget: "50%", excluded: 3, leader: true, uplift: "5.0% [1.0, 9.0]" });
    expect(c).toMatchObject({ id: "control", verdict: "baseline", conversion: "–", leader: false });
  });
  it("bolds the highest posterior mean only among arms with closed decisions: an untried arm sits at its prior", () => {
    // At start every arm is at its prior (mean 0.5 here): the untried ones outranked the arm with evidence.
    const kpi = { arms: [arm("a", 0.5, { trials: 0 }), arm("b", 0.12, { trials: 30 }), arm("control", 0.5, { trials: 0 })] } as unknown as LiveSnapshot;
    expect(armRows(kpi).map((r) => [r.id, r.leader])).toEqual([["a", false], ["b", true], ["control", false]]);
    // Before any decision has closed, none is bold.
    const none = { arms: [arm("a", 0.5, { trials: 0 }), arm("control", 0.5, { trials: 0 })] } as unknown as LiveSnapshot;
    expect(armRows(none).some((r) => r.leader)).toBe(false);
  });
  it("gives control no verdict but says why, rather than 'no data' beside the uplift it shows", () => {
    const [c] = armRows({ arms: [arm("control", 0.1, { uplift: { estimate: 0.01, ci95: [-0.01, 0.03] } })] } as unknown as LiveSnapshot);
    expect(c!.uplift).toBe("1.0% [-1.0, 3.0]");
    expect(c!.verdict).toBe("baseline");
  });
  it("gives no conversion while many of the arm's decisions are open: the closed ones are mostly the purchases", () => {
    // Early in a run: 3 closed, all bought (a decision closes at once when bought, at its window's end otherwise).
    const [early] = armRows({ arms: [arm("a", 0.2, { trials: 3, conversions: 3, conversion: { estimate: 1, ci95: [0.44, 1] }, open: 57 })] } as unknown as LiveSnapshot);
    expect(early!.conversion).toBe("– (3 closed, 57 open)");
    // Once few are open, the figure over the closed ones, and how many are still open.
    const [later] = armRows({ arms: [arm("a", 0.2, { trials: 950, conversions: 95, conversion: { estimate: 0.1, ci95: [0.082, 0.12] }, open: 50 })] } as unknown as LiveSnapshot);
    expect(later!.conversion).toBe("10% [8.2, 12] (50 open)");
    // A processor that does not count open decisions: the figure as before.
    const [old] = armRows({ arms: [arm("a", 0.2)] } as unknown as LiveSnapshot);
    expect(old!.conversion).toBe("25% [10, 50]");
  });
  it("shows over-promised stock as 0 available, and says why", () => {
    const [a] = armRows({ arms: [arm("a", 0.2, { stock: 0, overPromisedUnits: 3 })] } as unknown as LiveSnapshot);
    expect(a!.stock).toBe("0 (3 over)");
    expect(a!.stockNote).toMatch(/3 more units are promised to open offers than are in stock/);
    const [b] = armRows({ arms: [arm("b", 0.2, { stock: 4 })] } as unknown as LiveSnapshot);
    expect([b!.stock, b!.stockNote]).toEqual(["4", ""]);
  });
});
