// Baseline policies to measure Thompson sampling against (thompson.test.ts, and evaluations that
// want a floor). They read the same ArmTable posteriors, so they see exactly the same evidence.
import type { Rng } from "../random/index.ts";
import type { BetaParams } from "./posterior.ts";

/**
 * ε-greedy: with probability ε a uniformly random arm, otherwise the arm with the highest posterior
 * mean (ties to the lowest index). Exactly one rng draw for the coin, one more when exploring.
 */
export function epsilonGreedyChoose(arms: readonly BetaParams[], epsilon: number, rng: Rng): number {
  if (rng.next() < epsilon) return Math.min(arms.length - 1, Math.floor(rng.next() * arms.length));
  let best = 0;
  let bestMean = -Infinity;
  for (let i = 0; i < arms.length; i++) {
    const p = arms[i]!;
    const m = p.alpha / (p.alpha + p.beta);
    if (m > bestMean) {
      bestMean = m;
      best = i;
    }
  }
  return best;
}

/** Uniformly random arm: what a policy that learns nothing earns. */
export function uniformChoose(armCount: number, rng: Rng): number {
  return Math.min(armCount - 1, Math.floor(rng.next() * armCount));
}
