import { describe, expect, it } from "vitest";
import type { LiveSnapshot } from "../../src/kpi/index.ts";
import { safeView } from "./safe.ts";

type Safe = NonNullable<LiveSnapshot["safe"]>;
const base: Safe = {
  mode: "apprentice",
  baseline: "seed-rule",
  alpha: 0.05,
  decisions: 2000,
  servedByBaseline: 1900,
  explored: 100,
  baselineShare: 0.95,
  evidence: { decisions: 1200, mean: 123, lo: -20, hi: 266 },
  graduateAfter: 2000,
  bound: { slackLcb: 4567, closed: 1200, learnerServed: 60, marginCents: 900_000, slackPerDecision: { mean: 5, lo: 3.8 } },
  changes: [],
};

describe("safe-start panel", () => {
  it("apprentice: the rule's share, the evidence with its interval and what graduation needs, and a button to graduate", () => {
    const v = safeView(base)!;
    expect(v.mode).toBe("apprentice");
    expect(Object.fromEntries(v.facts)).toMatchObject({
      "shop's rule": "seed-rule",
      "served by the rule": "95.0%",
      explored: "5.0%",
      "learner − rule, margin per decision (95%)": "$1.23 [−$0.20, $2.66] over 1200 closed (graduates when the interval is above $0 over 2000)",
    });
    expect(v.actions).toEqual([{ label: "Graduate now", mode: "conservative" }]);
    expect(v.graduated).toBeNull();
  });

  it("conservative after a graduation: the fallback share, the bound, the graduation's evidence, and a button back to apprentice", () => {
    const v = safeView({ ...base, mode: "conservative", evidence: null, baselineShare: 0.04, changes: [{ ts: 0, mode: "conservative", reason: "graduated", atDecision: 12_345, evidence: { decisions: 9000, mean: 150, lo: 3, hi: 297 } }] })!;
    expect(Object.fromEntries(v.facts)["served by the rule (the bound's fallback)"]).toBe("4.0%");
    expect(Object.fromEntries(v.facts)["bound's slack (α = 0.05), lower confidence bound"]).toBe("$45.67 over 1200 closed decisions");
    expect(v.graduated).toBe("graduated to conservative at decision 12345: learner − rule $1.50 [$0.03, $2.97] over 9000 closed decisions");
    expect(v.actions).toEqual([{ label: "Back to apprentice", mode: "apprentice" }]);
  });

  it("learner: no count of decisions in the mode (the engine counts only apprentice and conservative decisions)", () => {
    const v = safeView({ ...base, mode: "learner", decisions: 0, evidence: null, bound: null })!;
    expect(v.facts.map(([k]) => k)).toEqual(["shop's rule", "served by the rule"]);
    expect(Object.fromEntries(safeView(base)!.facts)["decisions in this mode"]).toBe("2000");
    expect(v.actions).toEqual([{ label: "Start as apprentice", mode: "apprentice" }]);
  });

  it("learner: no chart, but why there is none (it drew an empty one)", () => {
    const v = safeView({ ...base, mode: "learner", decisions: 0, evidence: null, bound: null })!;
    expect(v.chart).toBe(false);
    expect(v.chartNote).toMatch(/^Learner mode: no shop's rule serves/);
    expect(safeView(base)!.chart).toBe(true);
  });

  it("before any decision has closed, says so instead of a bound 'over 0 closed decisions'", () => {
    const v = safeView({ ...base, evidence: { decisions: 0, mean: 0, lo: 0, hi: 0 }, bound: { slackLcb: -1234, closed: 0, learnerServed: 0, marginCents: 0, slackPerDecision: { mean: NaN, lo: NaN } } })!;
    expect(Object.fromEntries(v.facts)["bound's slack (α = 0.05), lower confidence bound"]).toBe("no closed decision yet");
  });

  // bandit.reward conversion: the evidence and the bound count conversions (a converted decision is 1),
  // and the panel showed them as dollars: 0.0123 conversions per decision read "$0.00".
  it("with the conversion objective, shows conversions, not dollars: labels, figures, the chart's heading and axis", () => {
    const conv: Safe = { ...base, objective: "conversion", evidence: { decisions: 1200, mean: 0.0123, lo: -0.002, hi: 0.0266 }, bound: { ...base.bound!, slackLcb: 45.67 } };
    const v = safeView(conv)!;
    expect(Object.fromEntries(v.facts)).toMatchObject({
      "learner − rule, conversion per decision (95%)": "1.23% [−0.20%, 2.66%] over 1200 closed (graduates when the interval is above 0% over 2000)",
      "bound's slack (α = 0.05), lower confidence bound": "45.7 conversions over 1200 closed decisions",
    });
    expect(v.chartHeading).toBe("Learner against the shop's rule (conversion per decision)");
    expect(v.chartNote).toMatch(/^Learner − rule, conversion per decision/);
    expect(v.yFormat).toBe("percent");
    const grad = safeView({ ...conv, mode: "conservative", evidence: null, changes: [{ ts: 0, mode: "conservative", reason: "graduated", atDecision: 12_345, evidence: { decisions: 9000, mean: 0.015, lo: 0.0003, hi: 0.0297 } }] })!;
    expect(grad.graduated).toBe("graduated to conservative at decision 12345: learner − rule 1.50% [0.03%, 2.97%] over 9000 closed decisions");
    expect(grad.chartNote).toMatch(/slack per closed decision, conversion/);
    expect(JSON.stringify(v)).not.toContain("$");
    // The margin objective, and a snapshot from before the objective was reported, keep dollars.
    for (const objective of ["margin", undefined] as const) {
      const m = safeView({ ...base, objective })!;
      expect(m.yFormat).toBe("cents");
      expect(m.chartHeading).toBe("Learner against the shop's rule (margin per decision)");
      expect(Object.fromEntries(m.facts)["bound's slack (α = 0.05), lower confidence bound"]).toBe("$45.67 over 1200 closed decisions");
    }
  });

  it("nothing to show before a snapshot", () => {
    expect(safeView(null)).toBeNull();
  });
});
