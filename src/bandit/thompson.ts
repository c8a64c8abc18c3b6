// Thompson sampling over score distributions (scores.ts): one draw per arm, the largest wins.
import { sampleBeta, type Rng } from "../random/index.ts";
import { normalQuantileFast } from "./numerics.ts";
import { DIST_BETA_HIGH, DIST_BETA_LOW, type ScoreArms } from "./scores.ts";

/**
 * One draw per arm, in arm order, written into `scores`; returns the index of the largest. Each draw is
 * the arm's quantile at a uniform (Φ⁻¹ then x_j): the distribution the propensity integrates, so the
 * propensity it reports is the probability of what it does (propensity.ts). One uniform per arm (more
 * for a Beta outside Paulson's range, drawn exactly), so a seeded rng replays exactly.
 */
export function thompsonDraw(arms: ScoreArms, rng: Rng, scores: number[] | Float64Array): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let j = 0; j < arms.n; j++) {
    const k = arms.kind[j];
    let s: number;
    if (k === DIST_BETA_LOW || k === DIST_BETA_HIGH) s = arms.scale[j]! * sampleBeta(arms.a[j]!, arms.b[j]!, rng);
    else {
      const u = rng.next();
      s = u <= 0 ? 0 : arms.scale[j]! * arms.x(j, normalQuantileFast(u));
    }
    scores[j] = s;
    if (s > bestScore) {
      bestScore = s;
      best = j;
    }
  }
  return best;
}

/** The arm with the highest central score (greedy: no exploration). Ties go to the lowest index. */
export function greedyPick(arms: ScoreArms): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let j = 0; j < arms.n; j++) {
    const c = arms.centre(j);
    if (c > bestScore) {
      bestScore = c;
      best = j;
    }
  }
  return best;
}

/**
 * P(Thompson sampling picks arm `index`) by Monte Carlo: `draws` independent rounds of thompsonDraw.
 * Floored at 1/(2·draws) (the arm was picked, so it is never impossible) and capped below 1.
 */
export function thompsonPropensityMC(arms: ScoreArms, index: number, draws: number, rng: Rng, scratch: number[] = []): number {
  if (arms.n === 1) return 1;
  let wins = 0;
  for (let d = 0; d < draws; d++) if (thompsonDraw(arms, rng, scratch) === index) wins++;
  const floor = 1 / (2 * draws);
  return Math.min(1 - floor, Math.max(floor, wins / draws));
}
