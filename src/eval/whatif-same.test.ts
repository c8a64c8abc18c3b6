// The logged configuration, evaluated as a candidate on its own log, is the logged policy: replayed
// through the same engine code on the same events, it gives each logged arm the logged propensity, so
// every importance weight is 1 and the effective sample size is every row. With the logistic model (the
// default) the replay did not feed the context evidence (the weight of the arms' context terms) from
// the decisions it followed, so from a few thousand decisions on its policy drifted from the one logged:
// 7,580 of 12,300 propensities differed, by up to 0.35 (seed 7).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { simLog } from "./sim.ts";
import { evaluateCandidates } from "./whatif.ts";

const WINDOWS = { attribution: { windowSecByChannel: { web: 1800, email: 1800, sms: 1800, push: 1800 } } };

describe("what-if: the logged configuration as a candidate is the logged policy", () => {
  for (const model of ["logistic", "tabular"] as const) {
    it(`${model}: every weight is 1, the effective sample size every row, and its estimates the logged value (seed 7, 4,000 decisions)`, () => {
      const base = loadConfig({ env: {}, overrides: { ...WINDOWS, bandit: { model } } });
      const log = simLog(base, loadScenario("steady"), 7, 4_000, 35 * 60_000);
      const r = evaluateCandidates(log, base, [{ name: "same", overlay: {}, cfg: base }]);
      const c = r.candidates.same!;
      expect(c.rows).toBe(r.logged.rows);
      // Weights are probability ratios computed twice the same way: equal to rounding.
      expect(c.maxWeight).toBeCloseTo(1, 9);
      expect(c.ess / c.rows).toBeCloseTo(1, 9);
      expect(c.ips.value / r.logged.value).toBeCloseTo(1, 9);
    });
  }
});
