// Thompson sampling against baselines on Bernoulli problems (issue #4, "Tests that must exist").
// Every run is seeded; regret is the expected (pseudo-)regret Σ (p* − p_chosen), which does not
// depend on the reward coin flips, only on the choices.
import { beforeAll, describe, expect, it } from "vitest";
import { rngFromSeed } from "../random/index.ts";
import type { Rng } from "../random/index.ts";
import { ArmTable, ScoreArms, epsilonGreedyChoose, thompsonDraw, thompsonPropensityMC, uniformChoose, type BetaParams } from "./index.ts";

/** Beta posteriors as score distributions at scale 1 (conversion alone). */
function betaArms(params: readonly BetaParams[], A = new ScoreArms()): ScoreArms {
  A.reset(params.length);
  params.forEach((p, j) => A.setBeta(j, p.alpha, p.beta, 1));
  return A;
}

/** One round of Thompson sampling over Beta posteriors: the winner and every draw. */
function thompsonChoose(params: readonly BetaParams[], rng: Rng): { index: number; scores: number[] } {
  const scores: number[] = [];
  const index = thompsonDraw(betaArms(params), rng, scores);
  return { index, scores };
}

type PolicyName = "thompson" | "epsilon-greedy" | "uniform";

interface Run {
  regret: number;
  choices: Int32Array;
}

/** One run: decision t happens at event time (t + 1) s and its reward is observed at once. */
function run(policy: PolicyName, probsAt: (t: number) => readonly number[], decisions: number, seed: number, halfLifeMs = 0): Run {
  const rng = rngFromSeed(seed);
  const table = new ArmTable({ priorAlpha: 1, priorBeta: 1, hierarchyStrength: 20, halfLifeMs });
  const k = probsAt(0).length;
  const ids = Array.from({ length: k }, (_, i) => `arm${i}`);
  const params: BetaParams[] = ids.map(() => ({ alpha: 1, beta: 1 }));
  const choices = new Int32Array(decisions);
  let regret = 0;
  for (let t = 0; t < decisions; t++) {
    const now = 1_000 * (t + 1);
    const p = probsAt(t);
    for (let i = 0; i < k; i++) table.posteriorInto(ids[i]!, "all", now, params[i]!);
    const a =
      policy === "thompson" ? thompsonChoose(params, rng).index : policy === "epsilon-greedy" ? epsilonGreedyChoose(params, 0.1, rng) : uniformChoose(k, rng);
    choices[t] = a;
    regret += Math.max(...p) - p[a]!;
    table.update(ids[a]!, "all", rng.next() < p[a]! ? 1 : 0, now);
  }
  return { regret, choices };
}

function share(c: Int32Array, from: number, to: number, arm: number): number {
  let n = 0;
  for (let t = from; t < to; t++) if (c[t] === arm) n++;
  return n / (to - from);
}

function shares(c: Int32Array, from: number, to: number, arms: number): number[] {
  return Array.from({ length: arms }, (_, a) => share(c, from, to, a));
}

const SEEDS = [1, 2, 3, 4, 5];

describe("stationary 5-arm Bernoulli problem, 20,000 decisions", () => {
  const P = [0.1, 0.08, 0.06, 0.04, 0.02];
  let results: { seed: number; thompson: Run; epsilon: Run; uniform: Run }[] = [];
  beforeAll(() => {
    results = SEEDS.map((seed) => ({
      seed,
      thompson: run("thompson", () => P, 20_000, seed),
      epsilon: run("epsilon-greedy", () => P, 20_000, seed),
      uniform: run("uniform", () => P, 20_000, seed),
    }));
  });
  const total = (k: "thompson" | "epsilon" | "uniform") => results.reduce((s, r) => s + r[k].regret, 0);

  it("Thompson sampling's cumulative regret is below ε-greedy (ε = 0.1) and uniform on the same seeds", () => {
    // Measured (seeds 1–5): Thompson 30 / 59 / 32 / 77 / 47, ε-greedy 147 / 333 / 151 / 89 / 434,
    // uniform 803 / 805 / 799 / 809 / 799. The assertion is on the sum over seeds (one lucky
    // ε-greedy seed can come close) and, for uniform, on every seed.
    expect(total("thompson")).toBeLessThan(total("epsilon"));
    expect(total("thompson")).toBeLessThan(0.5 * total("epsilon"));
    for (const r of results) expect(r.thompson.regret).toBeLessThan(r.uniform.regret);
    // Uniform's expected regret is 20,000 × mean gap 0.04 = 800; ±5% holds for any seed with this
    // many draws (sd of the sum ≈ 0.028·√20000 ≈ 4).
    for (const r of results) expect(Math.abs(r.uniform.regret - 800)).toBeLessThan(40);
  });

  it("gives the best arm more than 80% of the last 5,000 decisions", () => {
    // Measured: 98.3%–99.5%.
    expect(results).toHaveLength(SEEDS.length);
    for (const r of results) expect(share(r.thompson.choices, 15_000, 20_000, 0)).toBeGreaterThan(0.8);
  });
});

describe("shift: the best arm changes at decision 10,000", () => {
  const before = [0.1, 0.05, 0.05, 0.05, 0.04];
  const after = [0.05, 0.05, 0.05, 0.05, 0.12];
  const probsAt = (t: number) => (t < 10_000 ? before : after);
  const HALF_LIFE_MS = 1_000_000; // 1,000 decisions of event time

  /** Decisions after the shift until the new best arm is the most chosen over a trailing 500 (or -1). */
  function takeover(c: Int32Array): number {
    for (let t = 10_500; t <= 13_000; t += 100) {
      const s = shares(c, t - 500, t, 5);
      if (s[4] === Math.max(...s)) return t - 10_000;
    }
    return -1;
  }

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: with decay the new best arm is the most chosen within 3,000 decisions; without decay it is slower`, () => {
      const on = run("thompson", probsAt, 13_000, seed, HALF_LIFE_MS).choices;
      const off = run("thompson", probsAt, 13_000, seed, 0).choices;
      const sOn = shares(on, 10_000, 13_000, 5);
      const sOff = shares(off, 10_000, 13_000, 5);
      // Measured (seeds 1–3), decisions 10,000–13,000: new best 55% / 74% / 55% with decay,
      // 3% / 1% / 1% without; takeover after 1,200 / 600 / 1,400 decisions with decay, never without.
      expect(sOn[4]).toBe(Math.max(...sOn));
      expect(sOff[4]).toBeLessThan(Math.max(...sOff));
      expect(sOn[4]! - sOff[4]!).toBeGreaterThan(0.3);
      const tOn = takeover(on);
      const tOff = takeover(off);
      expect(tOn).toBeGreaterThan(0);
      expect(tOn).toBeLessThanOrEqual(3_000);
      expect(tOff === -1 || tOff > tOn).toBe(true);
    });
  }
});

describe("thompsonChoose draws", () => {
  it("draws an arm with a shape at or below 1/9 exactly (Paulson's formula has no meaning there)", () => {
    // α ≈ m/n: an arm that never converted in 10,000 decisions; its exact draws sit near 0.
    const arms = [
      { alpha: 0.002, beta: 10_000 },
      { alpha: 2, beta: 20 },
      { alpha: 10_000, beta: 0.002 }, // and its mirror, near 1
    ];
    const rng = rngFromSeed(5);
    for (let i = 0; i < 2_000; i++) {
      const { index, scores } = thompsonChoose(arms, rng);
      expect(index).toBe(2);
      expect(scores[0]!).toBeLessThan(0.01);
      expect(scores[2]!).toBeGreaterThan(0.99);
    }
  });

  it("replays exactly from a seed", () => {
    const arms = [
      { alpha: 1.5, beta: 18 },
      { alpha: 0.6, beta: 19 },
      { alpha: 30, beta: 300 },
    ];
    const a = rngFromSeed(11);
    const b = rngFromSeed(11);
    for (let i = 0; i < 100; i++) expect(thompsonChoose(arms, a)).toEqual(thompsonChoose(arms, b));
  });
});

describe("thompsonPropensityMC (Monte Carlo)", () => {
  it("estimates the win probability within its sampling error and is never 0 or 1", () => {
    const arms = [
      { alpha: 30, beta: 70 },
      { alpha: 25, beta: 75 },
      { alpha: 1, beta: 50 },
    ];
    const rng = rngFromSeed(3);
    // 4000 draws: standard error ≤ 0.008; tolerance 0.04 is 5 of them. Reference from the quadrature
    // estimator's independent computation is in propensity.test.ts; here the arms' sum must be 1.
    const p = arms.map((_, i) => thompsonPropensityMC(betaArms(arms), i, 4000, rng));
    expect(Math.abs(p.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(0.04);
    expect(p[0]!).toBeGreaterThan(p[1]!);
    expect(p[2]!).toBeGreaterThan(0);
    expect(thompsonPropensityMC(betaArms([{ alpha: 500, beta: 5 }, { alpha: 5, beta: 500 }]), 0, 64, rng)).toBeLessThan(1);
  });
});
