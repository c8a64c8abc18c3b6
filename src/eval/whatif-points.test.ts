// A candidate with fewer decision points than the logged configuration (here one product view a visit
// decided instead of three) is evaluated on the same logged decisions as the logged policy: where it
// would have decided nothing it offers nothing, control for sure. Those decisions were dropped without a
// word, so the candidate's figures were per decision on a subset (the first views of visits: 1,431 of
// 3,007 decisions, seed 7) set beside the logged policy's over all of them.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { simLog } from "./sim.ts";
import { evaluateCandidates } from "./whatif.ts";

const WINDOWS = { attribution: { windowSecByChannel: { web: 1800, email: 1800, sms: 1800, push: 1800 } } };
const cfgWith = (maxPerVisit: number, enabled = true) => loadConfig({ env: {}, overrides: { ...WINDOWS, decisionPoints: { productView: { enabled, maxPerVisit } } } });

describe("what-if: a candidate that decides at fewer points than the log", () => {
  const base = cfgWith(3);
  const log = simLog(base, loadScenario("steady"), 7, 3_000, 35 * 60_000);
  const report = evaluateCandidates(log, base, [
    { name: "one-a-visit", overlay: {}, cfg: cfgWith(1) },
    { name: "never", overlay: {}, cfg: cfgWith(1, false) },
    { name: "same", overlay: {}, cfg: base },
  ]);
  const one = report.candidates["one-a-visit"]!;

  it("is evaluated on every decision the logged policy is, and says at how many it would have decided nothing", () => {
    expect(report.logged.rows).toBeGreaterThan(2_000);
    expect(one.rows).toBe(report.logged.rows);
    expect(one.noDecision).toBeGreaterThan(0);
    expect(one.noDecision).toBeLessThan(one.rows);
    expect(one.warnings.join(" ")).toMatch(new RegExp(`${one.noDecision} logged decisions are no decision point of the candidate`));
    expect(report.candidates.same!.noDecision).toBe(0);
    expect(report.candidates.same!.warnings).toEqual([]);
  });

  it("a candidate that decides nowhere is always-control: nothing over control, exactly", () => {
    const never = report.candidates.never!;
    expect(never.rows).toBe(report.logged.rows);
    expect(never.noDecision).toBe(never.rows);
    expect(never.armShare).toEqual({ control: 1 });
    for (const k of ["ips", "snips", "dr"] as const) expect(never.incremental[k].value, k).toBe(0);
  });
});
