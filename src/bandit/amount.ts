// What a purchase is worth when it is not known at decision time (Hillstrom's spend; a decision with no
// catalog to price it): per arm, a Normal–Gamma posterior on the amount given a purchase, from decayed
// sums, with the prior centred on the amount pooled over every arm (empirical Bayes: an arm with a
// handful of purchases starts from what all arms have seen, at `priorStrength` purchases' weight).
// The policy scores an arm by this mean × its sampled conversion (the draw is on the conversion only,
// so the propensity keeps one normal variate per arm); the interval is for reports.
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

export interface AmountOptions {
  /** Purchases' worth of weight the pooled mean gets in each arm's prior. */
  priorStrength: number;
  /** The amount assumed before any purchase at all. */
  initialMean: number;
  halfLifeMs: number;
}

interface Sums {
  n: number;
  s1: number;
  s2: number;
  t: number;
}

export interface AmountState {
  arms: Record<string, Sums>;
}

export class AmountPosterior {
  private readonly arms = new Map<string, Sums>();
  private readonly decayRate: number;
  constructor(readonly opts: AmountOptions) {
    this.decayRate = opts.halfLifeMs > 0 ? Math.LN2 / opts.halfLifeMs : 0;
  }

  private decayed(c: Sums, nowMs: number): Sums {
    if (this.decayRate === 0 || nowMs <= c.t) return c;
    const g = Math.exp(-(nowMs - c.t) * this.decayRate);
    return { n: c.n * g, s1: c.s1 * g, s2: c.s2 * g, t: nowMs };
  }

  /** One purchase of `amount` under the arm at event time nowMs. */
  add(armId: string, amount: number, nowMs: number): void {
    const c = this.decayed(this.arms.get(armId) ?? { n: 0, s1: 0, s2: 0, t: nowMs }, nowMs);
    this.arms.set(armId, { n: c.n + 1, s1: c.s1 + amount, s2: c.s2 + amount * amount, t: Math.max(c.t, nowMs) });
  }

  /** The pooled mean over every arm (the prior's centre). */
  pooledMean(nowMs: number): number {
    let n = 0;
    let s = 0;
    for (const c0 of this.arms.values()) {
      const c = this.decayed(c0, nowMs);
      n += c.n;
      s += c.s1;
    }
    return n > 0 ? s / n : this.opts.initialMean;
  }

  /** The posterior mean of the amount given a purchase under the arm. */
  mean(armId: string, nowMs: number, pooled = this.pooledMean(nowMs)): number {
    const k0 = this.opts.priorStrength;
    const c0 = this.arms.get(armId);
    if (!c0) return pooled;
    const c = this.decayed(c0, nowMs);
    return (k0 * pooled + c.s1) / (k0 + c.n);
  }

  /** Mean and 95% interval (Student t of the Normal–Gamma marginal, α₀ = 1, β₀ from the pooled spread). */
  interval95(armId: string, nowMs: number): { mean: number; ci95: [number, number]; purchases: number } {
    const pooled = this.pooledMean(nowMs);
    const k0 = this.opts.priorStrength;
    const c = this.arms.get(armId) ? this.decayed(this.arms.get(armId)!, nowMs) : { n: 0, s1: 0, s2: 0, t: nowMs };
    const kn = k0 + c.n;
    const mn = (k0 * pooled + c.s1) / kn;
    const xbar = c.n > 0 ? c.s1 / c.n : pooled;
    const ss = Math.max(0, c.s2 - c.n * xbar * xbar);
    const a0 = 1;
    const b0 = Math.max(1e-9, pooled * pooled * 0.25);
    const an = a0 + c.n / 2;
    const bn = b0 + ss / 2 + (k0 * c.n * (xbar - pooled) ** 2) / (2 * kn);
    const scale = Math.sqrt(bn / (an * kn));
    const tq = tQuantile(0.975, 2 * an);
    return { mean: mn, ci95: [mn - tq * scale, mn + tq * scale], purchases: c.n };
  }

  toJSON(): AmountState {
    return { arms: Object.fromEntries([...this.arms].map(([k, v]) => [k, { ...v }])) };
  }
  static fromJSON(opts: AmountOptions, s: AmountState): AmountPosterior {
    const a = new AmountPosterior(opts);
    for (const [k, v] of Object.entries(s.arms)) a.arms.set(k, { ...v });
    return a;
  }
}
