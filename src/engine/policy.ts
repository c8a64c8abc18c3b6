import { thompsonChoose, thompsonPropensity, thompsonPropensityQuad, type ArmTable, type BetaParams } from "../bandit/index.ts";
import type { Rng } from "../random/index.ts";
import { CONTROL } from "./types.ts";

export interface PolicyOptions {
  holdoutShare: number;
  /** Monte Carlo draws, used when propensityMethod is "monte-carlo". */
  propensityDraws: number;
  /**
   * How P(Thompson picks the arm) is estimated: "quadrature" (default; deterministic, see
   * src/bandit/propensity.ts for what it approximates and its measured error) or "monte-carlo"
   * (propensityDraws independent rounds of Thompson sampling, drawn from the event's rng).
   */
  propensityMethod?: "quadrature" | "monte-carlo" | undefined;
  /** Gauss–Legendre nodes for "quadrature" (default 12). */
  propensityNodes?: number | undefined;
}

export interface PolicyChoice {
  armId: string;
  holdout: boolean;
  propensity: number;
  /** Each candidate's sampled score (control included). */
  scores: { promotionId: string; score: number }[];
}

/** Posterior objects reused across decisions, one array per arm count (nothing keeps them past a
 *  call, and the core is single-threaded): decide() allocates enough without them. */
const pools = new Map<number, BetaParams[]>();
function paramsFor(n: number): BetaParams[] {
  let p = pools.get(n);
  if (!p) pools.set(n, (p = Array.from({ length: n }, () => ({ alpha: 0, beta: 0 }))));
  return p;
}

function thompsonP(params: readonly BetaParams[], index: number, o: PolicyOptions, rng: Rng): number {
  return o.propensityMethod === "monte-carlo"
    ? thompsonPropensity(params, index, o.propensityDraws, rng)
    : thompsonPropensityQuad(params, index, o.propensityNodes ?? 12);
}

/**
 * The policy, shared by the processor and the evaluation: a random holdout share goes to control
 * (unconfounded, for uplift); otherwise Thompson sampling over the eligible promotions plus control.
 * Propensity is P(this arm | context) under the whole policy, holdout included:
 *   control: h + (1 − h)·P_TS(control);   a promotion: (1 − h)·P_TS(promotion).
 * Draw order is fixed (holdout, then scores, then any Monte Carlo propensity draws) so a seeded rng
 * replays exactly. Scores are drawn on holdout decisions too, for the explanation and so that the
 * draws a decision consumes do not depend on the holdout coin.
 */
export function choose(table: ArmTable, segment: string, eligible: readonly string[], nowMs: number, rng: Rng, o: PolicyOptions): PolicyChoice {
  const holdoutDraw = rng.next();
  const n = eligible.length + 1;
  const ids = new Array<string>(n);
  const params = paramsFor(n);
  for (let i = 0; i < n; i++) {
    const id = i < n - 1 ? eligible[i]! : CONTROL;
    ids[i] = id;
    table.posteriorInto(id, segment, nowMs, params[i]!);
  }
  const { index, scores } = thompsonChoose(params, rng);
  const scored = new Array<{ promotionId: string; score: number }>(n);
  for (let i = 0; i < n; i++) scored[i] = { promotionId: ids[i]!, score: scores[i]! };
  const h = o.holdoutShare;
  const controlIndex = n - 1;
  if (holdoutDraw < h) {
    const pControl = thompsonP(params, controlIndex, o, rng);
    return { armId: CONTROL, holdout: true, propensity: Math.min(1, h + (1 - h) * pControl), scores: scored };
  }
  const p = thompsonP(params, index, o, rng);
  const armId = ids[index]!;
  return { armId, holdout: false, propensity: Math.min(1, (1 - h) * p + (armId === CONTROL ? h : 0)), scores: scored };
}
