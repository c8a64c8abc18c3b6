import { describe, expect, it } from "vitest";
import { rngFromSeed } from "../random/index.ts";
import { offPolicy, offPolicyDifference, type OffPolicyRow } from "./offpolicy.ts";

/**
 * A logged bandit with known truth: two arms, rewards Bernoulli(0.3) and Bernoulli(0.5) × 10, the
 * logging policy picks arm 1 with probability 0.2, the target with 0.8. True target value: 0.2·3 + 0.8·5 = 4.6.
 */
function logged(n: number, seed: number, model: (arm: number) => number): { target: OffPolicyRow[]; control: OffPolicyRow[] } {
  const rng = rngFromSeed(seed);
  const target: OffPolicyRow[] = [];
  const control: OffPolicyRow[] = [];
  for (let i = 0; i < n; i++) {
    const arm = rng.next() < 0.2 ? 1 : 0;
    const reward = rng.next() < (arm ? 0.5 : 0.3) ? 10 : 0;
    const pLog = arm ? 0.2 : 0.8;
    target.push({ pLog, pTarget: arm ? 0.8 : 0.2, reward, qLogged: model(arm), qTarget: 0.2 * model(0) + 0.8 * model(1) });
    control.push({ pLog, pTarget: arm ? 0 : 1, reward, qLogged: model(arm), qTarget: model(0) });
  }
  return { target, control };
}

/** Over `reps` logs of `n` rows (seeds 1…reps): how often each interval covers `truth`, and the mean width of DR's. */
function coverage(reps: number, n: number, truth: number, est: (seed: number) => Record<"ips" | "snips" | "dr", { ci95: [number, number] }>) {
  const hit = { ips: 0, snips: 0, dr: 0 };
  let drWidth = 0;
  for (let s = 1; s <= reps; s++) {
    const e = est(s);
    for (const k of ["ips", "snips", "dr"] as const) if (e[k].ci95[0] <= truth && truth <= e[k].ci95[1]) hit[k]++;
    drWidth += e.dr.ci95[1] - e.dr.ci95[0];
  }
  return { ips: hit.ips / reps, snips: hit.snips / reps, dr: hit.dr / reps, drWidth: drWidth / reps };
}

// 400 replications: a 95% interval's coverage is 0.95 ± 0.011 (one sd); tolerance 0.92–0.98.
const REPS = 400;

describe("off-policy estimators", () => {
  it("recover a target policy's value from another's log: IPS, SNIPS and DR intervals cover it about 95% of the time", () => {
    const c = coverage(REPS, 2_000, 4.6, (s) => offPolicy(logged(2_000, s, (a) => (a ? 5 : 3)).target));
    for (const k of ["ips", "snips", "dr"] as const) {
      expect(c[k], k).toBeGreaterThan(0.92);
      expect(c[k], k).toBeLessThan(0.98);
    }
    // Weights 4 and 0.25 at 20% / 80%: ESS = n·(E w)²/E w² = n / 3.25.
    expect(offPolicy(logged(20_000, 1, () => 0).target).ess).toBeCloseTo(20_000 / 3.25, -2);
  });

  it("doubly robust: a good model narrows the interval, a wrong one does not bias it", () => {
    const none = coverage(REPS, 2_000, 4.6, (s) => offPolicy(logged(2_000, s, () => 0).target));
    const good = coverage(REPS, 2_000, 4.6, (s) => offPolicy(logged(2_000, s, (a) => (a ? 5 : 3)).target));
    const wrong = coverage(REPS, 2_000, 4.6, (s) => offPolicy(logged(2_000, s, (a) => (a ? 1 : 9)).target));
    // Measured: mean DR width 1.04 with no model, 0.79 with the right one, 1.00 with a wrong one.
    expect(good.drWidth).toBeLessThan(0.85 * none.drWidth);
    expect(wrong.dr).toBeGreaterThan(0.92);
    expect(wrong.dr).toBeLessThan(0.98);
  });

  it("the difference of two policies on the same rows: target minus always-arm-0 is 4.6 − 3 = 1.6", () => {
    const c = coverage(REPS, 2_000, 1.6, (s) => {
      const { target, control } = logged(2_000, s, (a) => (a ? 5 : 3));
      return offPolicyDifference(target, control);
    });
    for (const k of ["ips", "snips", "dr"] as const) {
      expect(c[k], k).toBeGreaterThan(0.92);
      expect(c[k], k).toBeLessThan(0.98);
    }
    const { target, control } = logged(100, 1, () => 0);
    expect(() => offPolicyDifference(target, control.slice(1))).toThrow();
  });
});
