// Do the arms' context terms make better decisions? (issue #21) The evidence is the policy value of two
// greedy rules on the policy's own logged decisions: g₁ picks the arm with the best expected reward
// under the full model (each arm's intercept and its context terms), g₀ under the intercepts alone
// (every customer the average one, the shared baseline aside). Inverse propensity scoring with the
// logged propensity, which is exact, gives an unbiased estimate of their difference from each decision:
//   d = (1[a = g₁] − 1[a = g₀]) / p(a) · r,
// a the arm the policy took, p(a) its propensity, r the reward (0 for a decision that did not convert).
// Only decisions where the two rules disagree carry a term; where they agree it is 0 and counts as a
// sample. The weight of the context terms in the policy's score is P(V(g₁) > V(g₀)) under a normal
// approximation, Φ(mean / standard error): Thompson sampling over the two models, averaged (the policy
// scores with the model average, so its propensity stays one exact quadrature).
//
// Why policy value and not likelihood: context predicts the outcome's level whatever the arm, so a
// model's predictive evidence favours context terms even where they change no decision (issue #21's
// notes: 90–130 nats); and a learned prior scale on the terms (empirical Bayes) finds the real but
// decision-irrelevant interactions of Hillstrom's visit data (0.15–0.23) and keeps them. What matters
// is whether acting on them earns more.
//
// The sums are counts and sums, so partitions add them (natural to the rest of the model's sharing),
// and they forget by decisions (see the constructor), so the weight follows the models as they learn.
// Hand-written: a handful of sums; the estimators in src/eval are the same arithmetic over a whole log.
import { normalCdf, sigmoid } from "./numerics.ts";

/** Decayed sums of the estimator's terms: samples, Σd, Σd², at clock t (decisions opened so far). */
export interface EvidenceSums {
  n: number;
  s1: number;
  s2: number;
  t: number;
}

const empty = (): EvidenceSums => ({ n: 0, s1: 0, s2: 0, t: 0 });

/** Default memory of the evidence, in decisions (see ContextEvidence). */
export const EVIDENCE_MEMORY_DECISIONS = 3_000;

/** The weight before any evidence: either model as likely. */
export const CONTEXT_WEIGHT_PRIOR = 0.5;

export class ContextEvidence {
  private own: EvidenceSums = empty();
  private external: EvidenceSums | undefined;
  private readonly keep: number;

  /**
   * `memoryDecisions`: each decision opened multiplies what came before by 1 − 1/memory. The question
   * is about the models as they are now, and they change as they learn: early context terms are noise
   * and lose to the intercepts; their evidence must give way when the terms have learned. Measured in
   * the simulator (issue #21): with no forgetting (the model's 7-day half-life is hours of decisions'
   * worth) an early losing streak held the weight near 0 for the rest of the run on 2 seeds of 10.
   */
  constructor(memoryDecisions = EVIDENCE_MEMORY_DECISIONS) {
    this.keep = memoryDecisions > 0 && Number.isFinite(memoryDecisions) ? 1 - 1 / memoryDecisions : 1;
  }

  /** The clock: decisions opened so far (a decision keeps it, to be weighed when it converts). */
  get clock(): number {
    return this.own.t;
  }

  private decay(steps: number): number {
    return this.keep === 1 || steps <= 0 ? 1 : Math.pow(this.keep, steps);
  }

  /** A decision the policy learns from was made: one more sample, its term 0 unless it converts. Returns its clock. */
  open(): number {
    const o = this.own;
    o.n = o.n * this.keep + 1;
    o.s1 *= this.keep;
    o.s2 *= this.keep;
    return ++o.t;
  }

  /** A decision opened at clock `at` converted with reward r: its term (its factor × r) joins the sums. */
  convert(factor: number, reward: number, at: number): void {
    if (factor === 0) return;
    const g = this.decay(this.own.t - at);
    const d = factor * reward;
    this.own.s1 += d * g;
    this.own.s2 += d * d * g;
  }

  /** A decision opened at clock `at` will never report (closed early for memory): it leaves the sample. */
  withdraw(at: number): void {
    this.own.n = Math.max(0, this.own.n - this.decay(this.own.t - at));
  }

  /** Own and other partitions' sums. */
  sums(): EvidenceSums {
    const o = this.own;
    const e = this.external;
    return e ? { n: o.n + e.n, s1: o.s1 + e.s1, s2: o.s2 + e.s2, t: o.t } : { ...o };
  }

  /** P(the full model's decisions earn more than the intercepts'), Φ(mean / se); the prior 0.5 until two samples and some spread. */
  weight(): number {
    // Once per decision: the sums added in place, no object.
    const o = this.own;
    const e = this.external;
    const n = e ? o.n + e.n : o.n;
    if (n < 2) return CONTEXT_WEIGHT_PRIOR;
    const mean = (e ? o.s1 + e.s1 : o.s1) / n;
    const v = (e ? o.s2 + e.s2 : o.s2) / n - mean * mean;
    if (!(v > 0)) return CONTEXT_WEIGHT_PRIOR;
    return normalCdf(mean / Math.sqrt(v / n));
  }

  /** This model's own sums, to 6 significant digits (what a partition shares). */
  share(): EvidenceSums {
    const r = (v: number) => Number(v.toPrecision(6));
    return { n: r(this.own.n), s1: r(this.own.s1), s2: r(this.own.s2), t: this.own.t };
  }

  /** Other partitions' shares, summed (each its own recent decisions, as its clock left them); [] forgets them. */
  setExternal(shares: readonly EvidenceSums[]): void {
    let sum: EvidenceSums | undefined;
    for (const s of shares) sum = sum ? { n: sum.n + s.n, s1: sum.s1 + s.s1, s2: sum.s2 + s.s2, t: Math.max(sum.t, s.t) } : { ...s };
    this.external = sum;
  }

  toJSON(): EvidenceSums {
    return { ...this.own };
  }

  restore(s: EvidenceSums): void {
    this.own = { ...s };
  }
}

/**
 * The two greedy picks of one decision (see the file's head): fed every arm's reward scale and its
 * log-odds with and without its context terms, it gives the decision's IPS factor once the policy
 * has picked. Owned by whoever decides; reused without allocation.
 */
export class DecisionContrast {
  private withCtx = -1;
  private without = -1;
  private bestWith = -Infinity;
  private bestWithout = -Infinity;

  reset(): void {
    this.withCtx = this.without = -1;
    this.bestWith = this.bestWithout = -Infinity;
  }

  /** Arm j: reward scale (margin if bought, or 1) and its mean log-odds with (`full`) and without (`plain`) context terms. */
  see(j: number, scale: number, full: number, plain: number): void {
    const v1 = scale * sigmoid(full);
    const v0 = scale * sigmoid(plain);
    if (v1 > this.bestWith) {
      this.bestWith = v1;
      this.withCtx = j;
    }
    if (v0 > this.bestWithout) {
      this.bestWithout = v0;
      this.without = j;
    }
  }

  /** (1[pick = g₁] − 1[pick = g₀]) / propensity: 0 where the two rules agree or the pick is neither. */
  factor(pick: number, propensity: number): number {
    if (this.withCtx === this.without) return 0;
    const k = (pick === this.withCtx ? 1 : 0) - (pick === this.without ? 1 : 0);
    return k === 0 ? 0 : k / propensity;
  }
}
