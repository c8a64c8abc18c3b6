// Baseline policies for the simulator, plugged into the engine's own pipeline (eligibility, guards,
// attribution, learning) by swapping the posterior table the policy reads. `choose` is untouched: it
// Thompson-samples whatever posteriors the table reports, so the table decides what the policy is.
import { ArmTable, type BetaParams } from "../bandit/index.ts";
import { CONTROL } from "../engine/index.ts";

/**
 * Every arm reports the same flat Beta(1, 1) and nothing is learned: Thompson draws from identical
 * posteriors are exchangeable, so `choose` picks uniformly among the eligible promotions and control.
 */
export class UniformTable extends ArmTable {
  // The policy reads posteriors through posteriorInto (allocation-free); route it through posterior().
  override posteriorInto(armId: string, segment: string, nowMs: number, out: BetaParams): BetaParams {
    return Object.assign(out, this.posterior(armId, segment, nowMs));
  }
  override posterior(_armId: string, _segment: string, _nowMs: number): BetaParams {
    return { alpha: 1, beta: 1 };
  }
  override globalPosterior(_armId: string, _nowMs: number): BetaParams {
    return { alpha: 1, beta: 1 };
  }
  override update(_armId: string, _segment: string, _success: 0 | 1, _nowMs: number): void {}
}

/** Concentration that turns a posterior into (numerically) a point mass at its mean. */
const POINT = 1e9;

/**
 * A greedy conversion-maximiser that ignores uplift: each promotion reports a point mass at its
 * learned mean (so the Thompson draw is the mean: greedy, no exploration beyond the optimistic prior),
 * and control reports ~0, so it always offers the promotion most likely to convert, never asking
 * whether the shopper would have bought without it. Learning is the engine's (use reward "conversion").
 */
export class GreedyTable extends ArmTable {
  override posteriorInto(armId: string, segment: string, nowMs: number, out: BetaParams): BetaParams {
    return Object.assign(out, this.posterior(armId, segment, nowMs));
  }
  override posterior(armId: string, segment: string, nowMs: number): BetaParams {
    if (armId === CONTROL) return { alpha: 1e-9, beta: POINT };
    const p = super.posterior(armId, segment, nowMs);
    const mean = p.alpha / (p.alpha + p.beta);
    return { alpha: mean * POINT, beta: (1 - mean) * POINT };
  }
}
