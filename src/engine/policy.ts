import { greedyPick, thompsonDraw, thompsonPropensity, thompsonPropensityMC, type ScoreArms } from "../bandit/index.ts";
import type { Rng } from "../random/index.ts";
import type { PolicyKind } from "./types.ts";

export interface PolicyOptions {
  holdoutShare: number;
  /** Monte Carlo draws, used when propensityMethod is "monte-carlo". */
  propensityDraws: number;
  /**
   * How P(Thompson picks the arm) is computed: "quadrature" (default; deterministic, see
   * src/bandit/propensity.ts) or "monte-carlo" (propensityDraws rounds of the policy's own draws).
   */
  propensityMethod?: "quadrature" | "monte-carlo" | undefined;
  /** Gauss–Legendre nodes for "quadrature" (default 12). */
  propensityNodes?: number | undefined;
}

export interface PolicyChoice {
  /** Index of the chosen arm in the scored arms. */
  index: number;
  holdout: boolean;
  propensity: number;
}

/** What the policy keeps between decisions (owned by one engine or replay policy; no module state). */
export class PolicyScratch {
  scores: number[] = [];
  draws: number[] = [];
  prop = { contenders: new Int32Array(0) };
}

function policyPick(kind: PolicyKind, A: ScoreArms, controlIndex: number, fixedIndex: number, rng: Rng, s: PolicyScratch): number {
  switch (kind.kind) {
    case "thompson":
      return thompsonDraw(A, rng, s.scores);
    case "uniform":
      for (let j = 0; j < A.n; j++) s.scores[j] = A.centre(j);
      return Math.min(A.n - 1, Math.floor(rng.next() * A.n));
    case "greedy": {
      for (let j = 0; j < A.n; j++) s.scores[j] = A.centre(j);
      // Never control, unless it is all there is.
      if (A.n === 1) return 0;
      let best = -1;
      for (let j = 0; j < A.n; j++) if (j !== controlIndex && (best < 0 || A.centre(j) > A.centre(best))) best = j;
      return best;
    }
    case "fixed":
      for (let j = 0; j < A.n; j++) s.scores[j] = A.centre(j);
      return fixedIndex >= 0 ? fixedIndex : controlIndex;
  }
}

/** P(the policy, holdout aside, picks arm i). */
function policyProbability(kind: PolicyKind, A: ScoreArms, i: number, picked: number, o: PolicyOptions, rng: Rng, s: PolicyScratch): number {
  switch (kind.kind) {
    case "thompson":
      return o.propensityMethod === "monte-carlo" ? thompsonPropensityMC(A, i, o.propensityDraws, rng, s.draws) : thompsonPropensity(A, i, o.propensityNodes ?? 12, s.prop);
    case "uniform":
      return 1 / A.n;
    default:
      // Deterministic: the pick, or never.
      return i === picked ? 1 : 0;
  }
}

/**
 * P(the whole policy, holdout included, picks each arm) into `out` (length A.n): what choose() would log
 * as each arm's propensity, for every arm at once (what-if evaluation weighs a logged decision by the
 * probability a candidate policy gives its arm). Deterministic for every policy but Monte Carlo
 * propensities (which draw from `rng`).
 */
export function policyDistribution(A: ScoreArms, kind: PolicyKind, fixedIndex: number, rng: Rng, o: PolicyOptions, scratch: PolicyScratch, out: number[]): number[] {
  const controlIndex = A.n - 1;
  const h = o.holdoutShare;
  // The deterministic policies' pick (their draws, for uniform, do not matter to the distribution).
  const picked = kind.kind === "greedy" || kind.kind === "fixed" ? policyPick(kind, A, controlIndex, fixedIndex, rng, scratch) : -1;
  for (let i = 0; i < A.n; i++) out[i] = (1 - h) * policyProbability(kind, A, i, picked, o, rng, scratch) + (i === controlIndex ? h : 0);
  out.length = A.n;
  return out;
}

/** A draw of the policy: the arm it takes, whether the holdout took it, and the policy's own pick (the same unless holdout). */
export interface PolicyDraw {
  index: number;
  holdout: boolean;
  picked: number;
}

/**
 * The policy's draw over arms whose score distributions the caller filled (`A`, control last): a random
 * holdout share goes to control (unconfounded, for uplift); otherwise the policy's pick (Thompson
 * sampling, or an evaluation baseline). Draw order is fixed (holdout, then the policy's draws) so a
 * seeded rng replays exactly. Scores are drawn on holdout decisions too (for the explanation, and so
 * that the draws a decision consumes do not depend on the holdout coin). `scratch.scores` holds them.
 */
export function drawPolicy(A: ScoreArms, kind: PolicyKind, fixedIndex: number, rng: Rng, o: PolicyOptions, scratch: PolicyScratch): PolicyDraw {
  const holdoutDraw = rng.next();
  const picked = policyPick(kind, A, A.n - 1, fixedIndex, rng, scratch);
  return holdoutDraw < o.holdoutShare ? { index: A.n - 1, holdout: true, picked } : { index: picked, holdout: false, picked };
}

/**
 * P(this arm | context) under the whole policy, holdout included, for a draw of drawPolicy:
 *   control: h + (1 − h)·P(control);   a promotion: (1 − h)·P(promotion).
 * Monte Carlo propensities draw from `rng` after the draw's own draws.
 */
export function drawPropensity(A: ScoreArms, kind: PolicyKind, d: PolicyDraw, rng: Rng, o: PolicyOptions, scratch: PolicyScratch): number {
  const h = o.holdoutShare;
  const p = policyProbability(kind, A, d.index, d.picked, o, rng, scratch);
  return Math.min(1, (1 - h) * p + (d.index === A.n - 1 ? h : 0));
}

/** The policy's draw and its propensity (drawPolicy, then drawPropensity), shared by the processor and the evaluation. */
export function choose(A: ScoreArms, kind: PolicyKind, fixedIndex: number, rng: Rng, o: PolicyOptions, scratch: PolicyScratch): PolicyChoice {
  const d = drawPolicy(A, kind, fixedIndex, rng, o, scratch);
  return { index: d.index, holdout: d.holdout, propensity: drawPropensity(A, kind, d, rng, o, scratch) };
}
