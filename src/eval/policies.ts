// Policies for the replay. The learning policy is the engine's own `choose` over the engine's own
// ArmTable (no second implementation); the rest are the baselines issue #10 asks for.
import { ArmTable, type PosteriorOptions } from "../bandit/index.ts";
import { CONTROL, choose, segmentOf, type EngineConfig, type Rule } from "../engine/index.ts";
import type { Rng } from "../random/index.ts";
import type { ReplayChoice, ReplayPolicy } from "./replay.ts";

export type BanditSettings = EngineConfig["bandit"];

export function posteriorOptionsOf(b: BanditSettings): PosteriorOptions {
  return { priorAlpha: b.priorAlpha, priorBeta: b.priorBeta, hierarchyStrength: b.hierarchyStrength, halfLifeMs: b.halfLifeMs };
}

/**
 * The Bernoulli trick (Agrawal & Goyal 2012), as the engine applies it when it closes a decision: a
 * reward in [0, 1] becomes a 0/1 observation with that mean, so the Beta posterior stays exact.
 */
export function bernoulliOf(reward: number, rng: Rng): 0 | 1 {
  return reward >= 1 ? 1 : reward <= 0 ? 0 : rng.next() < reward ? 1 : 0;
}

/** Always the same arm. */
export function fixedPolicy(arm: string): ReplayPolicy {
  return {
    name: `fixed:${arm}`,
    choose: () => ({ armId: arm, holdout: false }),
    learn: () => undefined,
  };
}

/** Each arm with equal probability, no learning. */
export function uniformPolicy(arms: readonly string[]): ReplayPolicy {
  return {
    name: "uniform",
    choose: (_ctx, _now, rng) => ({ armId: arms[Math.floor(rng.next() * arms.length)]!, holdout: false }),
    learn: () => undefined,
  };
}

export interface EnginePolicyOptions {
  name: string;
  /** The logged arms that are promotions; the control arm maps to the engine's CONTROL. */
  promotions: readonly string[];
  control: string;
  /** Segment rules over the log's columns; [] gives one segment ("all"): context-free Thompson sampling. */
  rules: readonly Rule[];
  bandit: BanditSettings;
}

/**
 * The engine's policy: segmented Thompson sampling over the promotions plus control, with the random
 * holdout share, hierarchical prior and forgetting, exactly as the processor runs it.
 */
export function enginePolicy(o: EnginePolicyOptions): ReplayPolicy & { table: ArmTable } {
  const table = new ArmTable(posteriorOptionsOf(o.bandit));
  table.add(CONTROL);
  for (const p of o.promotions) table.add(p);
  const toEngine = (arm: string) => (arm === o.control ? CONTROL : arm);
  return {
    name: o.name,
    table,
    choose(ctx, nowMs, rng): ReplayChoice {
      const c = choose(table, segmentOf(ctx, o.rules), o.promotions, nowMs, rng, o.bandit);
      return { armId: c.armId === CONTROL ? o.control : c.armId, holdout: c.holdout };
    },
    learn(ctx, armId, reward, nowMs, rng) {
      table.update(toEngine(armId), segmentOf(ctx, o.rules), bernoulliOf(reward, rng), nowMs);
    },
  };
}

export interface EpsilonGreedyOptions {
  arms: readonly string[];
  epsilon: number;
  bandit: BanditSettings;
}

/**
 * ε-greedy, context-free: with probability ε a uniformly random arm, otherwise the arm with the highest
 * estimated mean reward (posterior mean of the same ArmTable the engine uses; ties broken at random).
 */
export function epsilonGreedyPolicy(o: EpsilonGreedyOptions): ReplayPolicy {
  const table = new ArmTable(posteriorOptionsOf(o.bandit));
  for (const a of o.arms) table.add(a);
  return {
    name: "epsilon-greedy",
    choose(_ctx, nowMs, rng): ReplayChoice {
      if (rng.next() < o.epsilon) return { armId: o.arms[Math.floor(rng.next() * o.arms.length)]!, holdout: false };
      let best: string[] = [];
      let bestMean = -Infinity;
      for (const a of o.arms) {
        const p = table.globalPosterior(a, nowMs);
        const m = p.alpha / (p.alpha + p.beta);
        if (m > bestMean) {
          bestMean = m;
          best = [a];
        } else if (m === bestMean) best.push(a);
      }
      return { armId: best.length === 1 ? best[0]! : best[Math.floor(rng.next() * best.length)]!, holdout: false };
    },
    learn(_ctx, armId, reward, nowMs, rng) {
      table.update(armId, "all", bernoulliOf(reward, rng), nowMs);
    },
  };
}
