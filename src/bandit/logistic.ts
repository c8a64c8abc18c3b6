// A Bayesian logistic model of conversion per arm, online (Chapelle & Li 2011, "An empirical evaluation
// of Thompson sampling", algorithm 3): a diagonal Gaussian (Laplace) posterior on the weights, updated
// once per observation. The log-odds of a conversion under arm a in context x is
//   s = (b + w_a)·x,
// b a baseline shared by every arm (it learns from every decision, control and holdout included) and
// w_a the arm's own term (what the arm does beyond the baseline). Thompson sampling draws the arm terms
// only: the policy explores what it does not know about each arm's effect, not the base rate.
//
// One observation: along the direction of x the prior on s is N(μ, v) (μ = (m_b + m_a)·x,
// v = Σ x_i²(1/q_b,i + 1/q_a,i)); the posterior mode ŝ is found by Newton's method in that one
// dimension, the means move along Σx by (ŝ − μ)/v, and each precision gains x_i²·σ(ŝ)(1 − σ(ŝ)).
//
// Decisions are learned as failures when made and turned into successes if they convert, as the Beta
// posteriors do (a failure closes hours after a success, and learning only what has closed would flatter
// every arm). The turn is exact under the Gaussian: σ(s) = (1 − σ(s))·e^s, and multiplying the posterior
// by e^s moves its mean by Σx and leaves its precision alone.
//
// Forgetting decays the data's share of the natural parameters toward the prior with the half-life:
// q ← q₀ + (q − q₀)·γ and q·m ← q₀·m₀ + (q·m − q₀·m₀)·γ, γ = 2^(−Δt/halfLife), so an arm re-learns
// after a shift as the Beta counts do.
// Hand-written: the libraries of the field (Vowpal Wabbit's cb_explore_adf, scikit-learn) do not run
// in this process, and the model is a few dozen lines on top of the policy's own numerics.
import { sigmoid } from "./numerics.ts";

export interface LogisticOptions {
  /** Features per context. */
  dims: number;
  /** The baseline's prior mean (length dims; e.g. logit of the expected conversion on the bias). */
  baselinePriorMean: readonly number[];
  baselinePriorSd: number;
  /** Each arm's weights start at N(0, armPriorSd²). */
  armPriorSd: number;
  /** 0 turns forgetting off. */
  halfLifeMs: number;
}

interface Weights {
  m: Float64Array;
  q: Float64Array;
  /** Event time the weights were last brought up to date. */
  t: number;
}

export interface WeightsJSON {
  m: number[];
  q: number[];
  t: number;
}

export interface LogisticState {
  baseline: WeightsJSON;
  arms: Record<string, WeightsJSON>;
}

/** What a model learned beyond its prior, as natural parameters: the precision and precision × mean it added, at time t. */
export interface ShareWeights {
  dq: number[];
  deta: number[];
  t: number;
}

/** A model's learning in a form other models can add to their own (partitioned processors, issue #8). */
export interface LogisticShare {
  baseline: ShareWeights;
  arms: Record<string, ShareWeights>;
}

export class LogisticArms {
  private readonly arms = new Map<string, Weights>();
  private baseline: Weights;
  /**
   * What other models (other partitions) learned, summed: predictions add it to this model's own
   * (Gaussian posteriors from disjoint data multiply, so their natural parameters add). Derived state,
   * rebuilt from the others' latest shares; never serialised with this model.
   */
  private external: { baseline: ShareWeights | undefined; arms: Map<string, ShareWeights> } | undefined;
  private readonly q0b: number;
  private readonly q0a: number;
  private readonly m0b: Float64Array;
  private readonly decayRate: number;
  private readonly scratch = { mu: 0, sd: 0 };

  constructor(readonly opts: LogisticOptions) {
    if (opts.baselinePriorMean.length !== opts.dims) throw new Error(`baselinePriorMean has ${opts.baselinePriorMean.length} values for ${opts.dims} features`);
    this.q0b = 1 / (opts.baselinePriorSd * opts.baselinePriorSd);
    this.q0a = 1 / (opts.armPriorSd * opts.armPriorSd);
    this.m0b = Float64Array.from(opts.baselinePriorMean);
    this.decayRate = opts.halfLifeMs > 0 ? Math.LN2 / opts.halfLifeMs : 0;
    this.baseline = { m: Float64Array.from(this.m0b), q: new Float64Array(opts.dims).fill(this.q0b), t: 0 };
  }

  has(armId: string): boolean {
    return this.arms.has(armId);
  }
  ids(): string[] {
    return [...this.arms.keys()];
  }
  /** A new arm starts from its prior (no effect beyond the baseline); adding an existing one keeps it. */
  add(armId: string): void {
    if (!this.arms.has(armId)) this.arms.set(armId, { m: new Float64Array(this.opts.dims), q: new Float64Array(this.opts.dims).fill(this.q0a), t: 0 });
  }

  /** Decays w's data share to nowMs (never backwards). */
  private bring(w: Weights, q0: number, m0: Float64Array | undefined, nowMs: number): void {
    if (nowMs <= w.t) return;
    if (this.decayRate > 0 && w.t > 0) {
      const g = Math.exp(-(nowMs - w.t) * this.decayRate);
      for (let i = 0; i < w.m.length; i++) {
        const eta0 = m0 ? q0 * m0[i]! : 0;
        const q = q0 + (w.q[i]! - q0) * g;
        const eta = eta0 + (w.q[i]! * w.m[i]! - eta0) * g;
        w.q[i] = q;
        w.m[i] = eta / q;
      }
    }
    w.t = nowMs;
  }

  private armAt(armId: string, nowMs: number): Weights {
    let a = this.arms.get(armId);
    if (!a) {
      this.add(armId);
      a = this.arms.get(armId)!;
    }
    this.bring(a, this.q0a, undefined, nowMs);
    this.bring(this.baseline, this.q0b, this.m0b, nowMs);
    return a;
  }

  /**
   * The arm's log-odds in context x: mean μ (baseline and arm) and the standard deviation of the arm
   * term alone (what Thompson sampling draws), into `out`.
   */
  predict(armId: string, x: ArrayLike<number>, nowMs: number, out: { mu: number; sd: number }): { mu: number; sd: number } {
    const a = this.armAt(armId, nowMs);
    const b = this.baseline;
    if (this.external) return this.predictMerged(armId, a, x, nowMs, out);
    this.project(a, b, x, false, out);
    out.sd = Math.sqrt(out.sd);
    return out;
  }

  /**
   * predict() on the row x[at .. at + dims): the same arithmetic in the same order, without a
   * subarray view per arm (decide() scores every candidate arm from one buffer of rows).
   */
  predictAt(armId: string, x: Float64Array, at: number, nowMs: number, out: { mu: number; sd: number }): { mu: number; sd: number } {
    const a = this.armAt(armId, nowMs);
    if (this.external) return this.predictMerged(armId, a, x.subarray(at, at + this.opts.dims), nowMs, out);
    const b = this.baseline;
    const D = this.opts.dims;
    let mu = 0;
    let v = 0;
    for (let i = 0; i < D; i++) {
      const xi = x[at + i]!;
      if (xi === 0) continue;
      mu += (b.m[i]! + a.m[i]!) * xi;
      v += xi * xi * (1 / a.q[i]!);
    }
    out.mu = mu;
    out.sd = Math.sqrt(v);
    return out;
  }

  /**
   * The log-odds along x: mean (baseline and arm) into out.mu, and its variance into out.sd (the arm
   * term's alone, or with `withBaseline` the baseline's too), as a variance: the caller takes the root.
   */
  private project(a: Weights, b: Weights, x: ArrayLike<number>, withBaseline: boolean, out: { mu: number; sd: number }): void {
    let mu = 0;
    let v = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      mu += (b.m[i]! + a.m[i]!) * xi;
      v += xi * xi * (withBaseline ? 1 / b.q[i]! + 1 / a.q[i]! : 1 / a.q[i]!);
    }
    out.mu = mu;
    out.sd = v;
  }

  /** predict() with the other models' learning added: natural parameters summed per weight. */
  private predictMerged(armId: string, a: Weights, x: ArrayLike<number>, nowMs: number, out: { mu: number; sd: number }): { mu: number; sd: number } {
    const ext = this.external!;
    const eb = ext.baseline;
    const ea = ext.arms.get(armId);
    const gb = eb ? this.gammaTo(eb.t, nowMs) : 0;
    const ga = ea ? this.gammaTo(ea.t, nowMs) : 0;
    const b = this.baseline;
    let mu = 0;
    let v = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const qb = b.q[i]! + (eb ? eb.dq[i]! * gb : 0);
      const mb = (b.q[i]! * b.m[i]! + (eb ? eb.deta[i]! * gb : 0)) / qb;
      const qa = a.q[i]! + (ea ? ea.dq[i]! * ga : 0);
      const ma = (a.q[i]! * a.m[i]! + (ea ? ea.deta[i]! * ga : 0)) / qa;
      mu += (mb + ma) * xi;
      v += (xi * xi) / qa;
    }
    out.mu = mu;
    out.sd = Math.sqrt(v);
    return out;
  }

  private gammaTo(t: number, nowMs: number): number {
    return this.decayRate > 0 && nowMs > t ? Math.exp(-(nowMs - t) * this.decayRate) : 1;
  }

  /** This model's own learning beyond its prior (what a partition shares with the others), to 6 significant digits. */
  ownShare(): LogisticShare {
    const r = (v: number) => Number(v.toPrecision(6));
    const share = (w: Weights, q0: number, m0: Float64Array | undefined): ShareWeights => ({
      dq: Array.from(w.q, (q) => r(q - q0)),
      deta: Array.from(w.q, (q, i) => r(q * w.m[i]! - (m0 ? q0 * m0[i]! : 0))),
      t: w.t,
    });
    return { baseline: share(this.baseline, this.q0b, this.m0b), arms: Object.fromEntries([...this.arms].map(([k, w]) => [k, share(w, this.q0a, undefined)])) };
  }

  /** Replaces what other models learned with the sum of these shares (each decayed to the latest of their times). */
  setExternal(shares: readonly LogisticShare[]): void {
    if (shares.length === 0) {
      this.external = undefined;
      return;
    }
    const add = (into: ShareWeights | undefined, s: ShareWeights): ShareWeights => {
      if (!into) return { dq: s.dq.slice(), deta: s.deta.slice(), t: s.t };
      const t = Math.max(into.t, s.t);
      const gi = this.gammaTo(into.t, t);
      const gs = this.gammaTo(s.t, t);
      return { dq: into.dq.map((v, i) => v * gi + (s.dq[i] ?? 0) * gs), deta: into.deta.map((v, i) => v * gi + (s.deta[i] ?? 0) * gs), t };
    };
    let baseline: ShareWeights | undefined;
    const arms = new Map<string, ShareWeights>();
    for (const sh of shares) {
      if (sh.baseline.dq.length === this.opts.dims) baseline = add(baseline, sh.baseline);
      for (const [k, w] of Object.entries(sh.arms)) if (w.dq.length === this.opts.dims) arms.set(k, add(arms.get(k), w));
    }
    this.external = { baseline, arms };
  }

  /** P(conversion) under the arm at the posterior mean (no draw). */
  meanConversion(armId: string, x: ArrayLike<number>, nowMs: number): number {
    const o = this.predict(armId, x, nowMs, { mu: 0, sd: 0 });
    return sigmoid(o.mu);
  }

  /** Learns one observation (y = 1: converted) of the arm in context x at event time nowMs. */
  learn(armId: string, x: ArrayLike<number>, y: 0 | 1, nowMs: number): void {
    const a = this.armAt(armId, nowMs);
    const b = this.baseline;
    const pr = this.scratch;
    this.project(a, b, x, true, pr);
    const mu = pr.mu;
    const v = pr.sd;
    if (v <= 0) return;
    // Newton on f(s) = −(s − μ)²/(2v) + y·s − log(1 + e^s), concave: a few steps reach 1e-9.
    let s = mu;
    for (let it = 0; it < 20; it++) {
      const p = sigmoid(s);
      const step = (-(s - mu) / v + y - p) / (1 / v + p * (1 - p));
      s += step;
      if (Math.abs(step) < 1e-9) break;
    }
    const p = sigmoid(s);
    const h = p * (1 - p);
    const r = (s - mu) / v;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      b.m[i]! += (xi / b.q[i]!) * r;
      a.m[i]! += (xi / a.q[i]!) * r;
      b.q[i]! += xi * xi * h;
      a.q[i]! += xi * xi * h;
    }
  }

  /**
   * A failure learned earlier becomes a success (its decision converted): the posterior times e^s,
   * i.e. the means move by Σx (weight 1). With 0 < weight < 1, a partial turn: `retract` uses it.
   */
  turnToSuccess(armId: string, x: ArrayLike<number>, nowMs: number, weight = 1): void {
    const a = this.armAt(armId, nowMs);
    const b = this.baseline;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      b.m[i]! += (weight * xi) / b.q[i]!;
      a.m[i]! += (weight * xi) / a.q[i]!;
    }
  }

  /**
   * Takes back (to first order) a failure whose outcome will never be known (closed early for
   * memory): dividing the posterior by 1 − σ(s) moves its mean by Σx·σ(s), so in expectation the
   * early close teaches nothing. Precisions keep what the failure added (a slight overconfidence).
   */
  retractFailure(armId: string, x: ArrayLike<number>, nowMs: number): void {
    const p = this.meanConversion(armId, x, nowMs);
    this.turnToSuccess(armId, x, nowMs, p);
  }

  /** The arm's weights (mean and sd), baseline included, for reports. */
  describe(armId: string): { mean: number[]; sd: number[] } | undefined {
    const a = this.arms.get(armId);
    if (!a) return undefined;
    return { mean: [...a.m].map((m, i) => m + this.baseline.m[i]!), sd: [...a.q].map((q) => 1 / Math.sqrt(q)) };
  }

  toJSON(): LogisticState {
    const w = (x: Weights): WeightsJSON => ({ m: [...x.m], q: [...x.q], t: x.t });
    return { baseline: w(this.baseline), arms: Object.fromEntries([...this.arms].map(([k, v]) => [k, w(v)])) };
  }

  static fromJSON(opts: LogisticOptions, s: LogisticState): LogisticArms {
    const l = new LogisticArms(opts);
    const w = (x: WeightsJSON): Weights => {
      if (x.m.length !== opts.dims || x.q.length !== opts.dims) throw new Error(`logistic weights have ${x.m.length} features, the model ${opts.dims}`);
      return { m: Float64Array.from(x.m), q: Float64Array.from(x.q), t: x.t };
    };
    l.baseline = w(s.baseline);
    for (const [k, v] of Object.entries(s.arms)) l.arms.set(k, w(v));
    return l;
  }
}
