// The arm × context complexity, chosen by the engine's own evidence (issue #21), on synthetic data where
// the answer is known. Two worlds share a customer feature that moves the outcome's level whatever the
// arm (x3) and a feature that is noise (x2); in one, the arms' effects are the same for every customer
// (context carries no arm-specific signal: the best arm is A everywhere); in the other, they flip with
// x1 (A for x1 = 1, B for x1 = 0). The engine's policy (the same code the replay and the processor run)
// against the context-free learner, ts, over 20,000 online decisions; seeds 1–3.
import { describe, expect, it } from "vitest";
import { sigmoid } from "../bandit/index.ts";
import { loadConfig } from "../config/index.ts";
import { engineConfigFrom } from "../engine/index.ts";
import { rngFromKey, rngFromSeed } from "../random/index.ts";
import { enginePolicy, type LogFeatures } from "./policies.ts";

const bandit = engineConfigFrom(loadConfig({ env: {} })).bandit;
const FEATURES: LogFeatures = {
  dims: 4,
  write(ctx, out) {
    out[0] = 1;
    out[1] = ctx.x1 as number;
    out[2] = ctx.x2 as number;
    out[3] = ctx.x3 as number;
  },
};
const ARMS = ["A", "B", "C"];
type World = "no arm-specific context" | "arm-specific context";

function conversion(world: World, arm: string, c: { x1: number; x3: number }): number {
  const effect = world === "no arm-specific context" ? ({ A: 0.4, B: 0.1 } as Record<string, number>)[arm] ?? 0 : arm === "A" ? (c.x1 ? 0.8 : -0.4) : arm === "B" ? (c.x1 ? -0.4 : 0.8) : 0;
  return sigmoid(-1.5 + 1.2 * c.x3 + effect);
}

interface Run {
  /** Expected conversions lost against the best arm for each customer, per policy decision. */
  regret: number;
  /** Share of the last 5,000 policy decisions that took the customer's best arm. */
  lateBest: number;
  /** The engine's weight of the context terms at the end (logistic only). */
  weight: number | undefined;
}

function online(world: World, model: "logistic" | "tabular", seed: number, n = 20_000): Run {
  const p = enginePolicy({ name: model, promotions: ["A", "B"], control: "C", model, rules: [], features: FEATURES, learnAmount: false, bandit });
  const rng = rngFromSeed(seed);
  let regret = 0;
  let decided = 0;
  let late = 0;
  let lateBest = 0;
  for (let t = 0; t < n; t++) {
    const c = { x1: rng.next() < 0.5 ? 1 : 0, x2: rng.next(), x3: rng.next() < 0.3 ? 1 : 0 };
    const nowMs = (t + 1) * 1000;
    const choice = p.choose(c, nowMs, rngFromKey(seed, `row-${t}`));
    const best = Math.max(...ARMS.map((a) => conversion(world, a, c)));
    const got = conversion(world, choice.armId, c);
    if (!choice.holdout) {
      regret += best - got;
      decided++;
      if (t >= n - 5_000) {
        late++;
        if (got === best) lateBest++;
      }
    }
    p.learn(c, choice.armId, rng.next() < got ? 1 : 0, nowMs, rng);
  }
  return { regret: regret / decided, lateBest: lateBest / late, weight: p.logistic?.contextWeight() };
}

describe("the arm × context complexity, chosen by evidence about the arms' effects", () => {
  it("where context carries no arm-specific signal, the engine behaves like arm intercepts: as good as the context-free learner", () => {
    // Measured: engine regret 0.0009 / 0.0013 / 0.0020 per decision, ts 0.0009 / 0.0016 / 0.0016; both
    // take A on 99.4–99.9% of the last 5,000 decisions. The two greedy rules (with and without context
    // terms) agree on nearly every decision, so the weight stays near its prior (0.50–0.52).
    let engine = 0;
    let ts = 0;
    for (const seed of [1, 2, 3]) {
      const e = online("no arm-specific context", "logistic", seed);
      const t = online("no arm-specific context", "tabular", seed);
      engine += e.regret;
      ts += t.regret;
      expect(e.lateBest, `seed ${seed}`).toBeGreaterThan(0.98);
    }
    // Tolerance: half again the context-free learner's regret (seed-to-seed spread is ±50%).
    expect(engine).toBeLessThan(1.5 * ts);
  });

  it("where it does, the evidence turns the context terms fully on and the engine takes each customer's best arm", () => {
    // Measured: weight 1.00 on each seed; the best arm on 100% of the last 5,000 decisions; regret
    // 0.003–0.009 per decision against ts's 0.10 (ts cannot tell customers apart: half its picks are wrong).
    for (const seed of [1, 2, 3]) {
      const e = online("arm-specific context", "logistic", seed);
      const t = online("arm-specific context", "tabular", seed);
      expect(e.weight!, `seed ${seed}`).toBeGreaterThan(0.99);
      expect(e.lateBest, `seed ${seed}`).toBeGreaterThan(0.97);
      expect(e.regret, `seed ${seed}`).toBeLessThan(0.2 * t.regret);
    }
  });
});
