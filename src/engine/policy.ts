import { thompsonChoose, thompsonPropensity, type ArmTable, type BetaParams } from "../bandit/index.ts";
import type { Rng } from "../random/index.ts";
import { CONTROL } from "./types.ts";

export interface PolicyOptions {
  holdoutShare: number;
  propensityDraws: number;
}

export interface PolicyChoice {
  armId: string;
  holdout: boolean;
  propensity: number;
  /** Each candidate's sampled score (control included). */
  scores: { promotionId: string; score: number }[];
}

/**
 * The policy, shared by the processor and the evaluation: a random holdout share goes to control
 * (unconfounded, for uplift); otherwise Thompson sampling over the eligible promotions plus control.
 * Propensity is P(this arm | context) under the whole policy, holdout included.
 * Draw order is fixed (holdout, then scores, then propensity) so a seeded rng replays exactly.
 */
export function choose(table: ArmTable, segment: string, eligible: readonly string[], nowMs: number, rng: Rng, o: PolicyOptions): PolicyChoice {
  const holdoutDraw = rng.next();
  const ids = [...eligible, CONTROL];
  const params: BetaParams[] = ids.map((id) => table.posterior(id, segment, nowMs));
  const { index, scores } = thompsonChoose(params, rng);
  const scored = ids.map((id, i) => ({ promotionId: id, score: scores[i]! }));
  const h = o.holdoutShare;
  const controlIndex = ids.length - 1;
  if (holdoutDraw < h) {
    const pControl = thompsonPropensity(params, controlIndex, o.propensityDraws, rng);
    return { armId: CONTROL, holdout: true, propensity: h + (1 - h) * pControl, scores: scored };
  }
  const p = thompsonPropensity(params, index, o.propensityDraws, rng);
  const armId = ids[index]!;
  return { armId, holdout: false, propensity: (1 - h) * p + (armId === CONTROL ? h : 0), scores: scored };
}
