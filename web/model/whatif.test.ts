import { describe, expect, it } from "vitest";
import type { WhatIfSummary } from "../../src/kpi/index.ts";
import { whatIfRows } from "./whatif.ts";

const summary: WhatIfSummary = {
  at: 0,
  rows: 5000,
  logged: { value: 1000, ci95: [900, 1100], incremental: { value: 150, ci95: [100, 200] } },
  candidates: [
    { name: "holdout-30", dr: { value: 980, ci95: [880, 1080] }, incremental: { value: 130, ci95: [80, 180] }, ess: 4800, rows: 5000, warnings: [], overlay: { bandit: { holdoutShare: 0.3 } } },
    { name: "bold", dr: { value: 1300, ci95: [1200, 1400] }, incremental: { value: 400, ci95: [300, 500] }, ess: 2000, rows: 5000, warnings: [], overlay: {} },
    { name: "conversion", dr: { value: 800, ci95: [500, 1100] }, incremental: { value: 60, ci95: [-50, 170] }, ess: 40, rows: 5000, warnings: ["effective sample size 40 is under 100: the logs cannot tell what this candidate would earn"], overlay: {} },
  ],
};

describe("whatIfRows", () => {
  it("lists the live policy, then each candidate with its estimates, and says whether it beats the live policy", () => {
    const rows = whatIfRows(summary);
    expect(rows.map((r) => [r.name, r.verdict])).toEqual([
      ["live policy (logged)", "live"],
      ["holdout-30", "unproven"],
      ["bold", "better"],
      ["conversion", "no answer"],
    ]);
    expect(rows[1]).toMatchObject({ value: "$9.80 [8.80, 10.80]", incremental: "$1.30 [0.80, 1.80]", ess: "4800 of 5000", overlay: '{"bandit":{"holdoutShare":0.3}}' });
    expect(whatIfRows(null)).toEqual([]);
  });
});
