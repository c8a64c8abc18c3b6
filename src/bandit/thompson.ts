import type { BetaParams } from "./posterior.ts";
import type { Rng } from "../random/index.ts";
import { sampleBeta } from "../random/index.ts";
import { paulsonChoose, paulsonOf, paulsonQuantile, paulsonUsable } from "./propensity.ts";

/**
 * One Thompson draw per arm; returns the index of the largest draw and every draw (the scores).
 * The draws come from Paulson's approximation of each Beta posterior, the distribution the
 * propensity integrates (see paulsonChoose in propensity.ts for why).
 */
export function thompsonChoose(arms: readonly BetaParams[], rng: Rng): { index: number; scores: number[] } {
  const scores = new Array<number>(arms.length);
  const index = paulsonChoose(arms, rng, scores);
  return { index, scores };
}

/** Upper and lower bounds far in the tails (±6 sd, normal approximation to the Beta). */
function bounds(p: BetaParams): { lo: number; hi: number } {
  const n = p.alpha + p.beta;
  const mean = p.alpha / n;
  const sd = Math.sqrt((p.alpha * p.beta) / (n * n * (n + 1)));
  return { lo: mean - 6 * sd, hi: mean + 6 * sd };
}

/**
 * P(Thompson sampling picks arm `index`), by Monte Carlo with a fixed number of draws, each drawn as
 * thompsonChoose draws.
 *
 * Arms whose upper bound (mean + 6 sd) is below the best lower bound cannot win in practice and are
 * skipped: with learned posteriors most arms are far from the top, so this keeps the cost close to
 * draws × (number of contenders) instead of draws × (number of arms). A dominated chosen arm can
 * still be chosen (one draw in its far tail); its estimate is floored at 1/(2·draws), never 0.
 */
export function thompsonPropensity(arms: readonly BetaParams[], index: number, draws: number, rng: Rng): number {
  if (arms.length === 1) return 1;
  let bestLo = -Infinity;
  const b = arms.map(bounds);
  for (const x of b) if (x.lo > bestLo) bestLo = x.lo;
  const contenders: number[] = [];
  for (let i = 0; i < arms.length; i++) if (i === index || b[i]!.hi >= bestLo) contenders.push(i);
  if (contenders.length === 1) return 1 - 1 / (2 * draws);
  const paulson = contenders.map((i) => paulsonOf(arms[i]!.alpha, arms[i]!.beta));
  let wins = 0;
  for (let d = 0; d < draws; d++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < contenders.length; c++) {
      const p = paulson[c]!;
      const s = paulsonUsable(p) ? paulsonQuantile(p, rng.next()) : sampleBeta(arms[contenders[c]!]!.alpha, arms[contenders[c]!]!.beta, rng);
      if (s > bestScore) {
        bestScore = s;
        best = contenders[c]!;
      }
    }
    if (best === index) wins++;
  }
  const floor = 1 / (2 * draws);
  return Math.min(1 - floor, Math.max(floor, wins / draws));
}
