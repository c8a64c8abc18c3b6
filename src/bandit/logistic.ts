// A Bayesian logistic model of conversion per arm, online (Chapelle & Li 2011, "An empirical evaluation
// of Thompson sampling", algorithm 3): a diagonal Gaussian (Laplace) posterior on the weights, updated
// once per observation. The log-odds of a conversion under arm a in context x is
//   s = b·x + c_a + v_a·(x − x̄),
// b a baseline shared by every arm (it learns from every decision, control and holdout included), c_a
// the arm's intercept: its effect on the average customer (x̄ is the running mean of the contexts
// learned), and v_a its context terms: how that effect differs by customer. The bias (feature 0) is not
// centred: it is what c_a multiplies. Centred, a feature that is mostly 1 (bought men's lines last
// year) no longer carries part of every arm's level: with a diagonal posterior the arms' level
// differences would otherwise spread over every such feature (issue #21: Hillstrom's arm intercepts
// came out 0.08 apart where the arms' levels are 0.64 apart).
//
// What the policy draws (issue #21). Thompson sampling draws the arm's intercept only: the policy
// explores what it does not know about each arm's effect on the average customer, not the base rate
// and not the context terms. The context terms enter the score at their posterior mean, weighted by
// the evidence that acting on them earns more (evidence.ts): their exploration comes from the variety
// of customers the policy meets (the greedy rule is near optimal for the terms of a linear contextual
// bandit when contexts are diverse: Bastani, Bayati & Khosravi 2021; Kannan et al. 2018), while an arm
// the policy never picks is never learned, whatever its customers. Measured: drawing the whole arm
// term, as before, explored the context terms' 14 weights of uncertainty on every decision and cost
// 1.5 points of Hillstrom's best arm on visit and 1–3 points of the simulator's oracle.
//
// One observation: along the direction of the observation the prior on s is N(μ, v) (μ the full
// model's mean, v = Σ x_i²/q_b,i + Σ z_i²/q_a,i with z = the arm's centred features); the posterior
// mode ŝ is found by Newton's method in that one dimension, the means move by (ŝ − μ)/v along Σx and
// Σz, and each precision gains x_i²·h (baseline) or z_i²·h (arm), h = σ(ŝ)(1 − σ(ŝ)).
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
import { ContextEvidence, type EvidenceSums } from "./evidence.ts";
import { sigmoid } from "./numerics.ts";

export interface LogisticOptions {
  /** Features per context; feature 0 is the bias (1). */
  dims: number;
  /** The baseline's prior mean (length dims; e.g. logit of the expected conversion on the bias). */
  baselinePriorMean: readonly number[];
  baselinePriorSd: number;
  /** Each arm's intercept (its effect on the average customer) starts at N(0, armPriorSd²). */
  armPriorSd: number;
  /** Each arm's context terms start at N(0, contextPriorSd²) (default armPriorSd). */
  contextPriorSd?: number | undefined;
  /** 0 turns forgetting off. */
  halfLifeMs: number;
}

/** One arm's log-odds at a context: with its context terms, without them, and the sd of its intercept (what Thompson sampling draws). */
export interface ArmPrediction {
  full: number;
  plain: number;
  sd: number;
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

/** The running mean of the contexts learned: decayed weight, weight × x, at event time t. */
export interface CentreSums {
  w: number;
  wx: number[];
  t: number;
}

export interface LogisticState {
  baseline: WeightsJSON;
  /** Arm weights: [intercept, context terms around `centre.at`]. */
  arms: Record<string, WeightsJSON>;
  centre: CentreSums & { at: number[]; learns: number; moves: number };
  evidence: EvidenceSums;
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
  /** The contexts' running sums and the context evidence (issue #21; absent from older partitions). */
  centre?: CentreSums | undefined;
  evidence?: EvidenceSums | undefined;
}

/** Learns between moves of the centre once it has settled; the first moves come after 16, 32, 64, 128. */
export const CENTRE_MOVE_EVERY = 256;

export class LogisticArms {
  private readonly arms = new Map<string, Weights>();
  private baseline: Weights;
  /**
   * What other models (other partitions) learned, summed: predictions add it to this model's own
   * (Gaussian posteriors from disjoint data multiply, so their natural parameters add). Derived state,
   * rebuilt from the others' latest shares; never serialised with this model.
   */
  private external: { baseline: ShareWeights | undefined; arms: Map<string, ShareWeights>; centre: CentreSums | undefined } | undefined;
  private readonly q0b: number;
  /** Prior precision of an arm's intercept and of each of its context terms. */
  private readonly q0c: number;
  private readonly q0v: number;
  private readonly m0b: Float64Array;
  private readonly decayRate: number;
  /**
   * x̄, the centre the arms' context terms are expressed around (entry 0 stays 0: the bias is not
   * centred). Moved now and then (`moveCentre`), and every arm re-expressed around it at once, so it
   * predicts the same after the move.
   */
  private centre: Float64Array;
  private sums: { w: number; wx: Float64Array; t: number };
  private learnsSinceMove = 0;
  private moves = 0;
  /** Whether the arms' context terms make better decisions: the weight of their means in the policy's score. */
  readonly evidence: ContextEvidence;

  constructor(readonly opts: LogisticOptions) {
    if (opts.baselinePriorMean.length !== opts.dims) throw new Error(`baselinePriorMean has ${opts.baselinePriorMean.length} values for ${opts.dims} features`);
    this.q0b = 1 / (opts.baselinePriorSd * opts.baselinePriorSd);
    this.q0c = 1 / (opts.armPriorSd * opts.armPriorSd);
    const cs = opts.contextPriorSd ?? opts.armPriorSd;
    this.q0v = 1 / (cs * cs);
    this.m0b = Float64Array.from(opts.baselinePriorMean);
    this.decayRate = opts.halfLifeMs > 0 ? Math.LN2 / opts.halfLifeMs : 0;
    this.baseline = { m: Float64Array.from(this.m0b), q: new Float64Array(opts.dims).fill(this.q0b), t: 0 };
    this.centre = new Float64Array(opts.dims);
    this.sums = { w: 0, wx: new Float64Array(opts.dims), t: 0 };
    this.evidence = new ContextEvidence();
  }

  has(armId: string): boolean {
    return this.arms.has(armId);
  }
  ids(): string[] {
    return [...this.arms.keys()];
  }
  /** A new arm starts from its prior (no effect beyond the baseline); adding an existing one keeps it. */
  add(armId: string): void {
    if (this.arms.has(armId)) return;
    const q = new Float64Array(this.opts.dims).fill(this.q0v);
    q[0] = this.q0c;
    this.arms.set(armId, { m: new Float64Array(this.opts.dims), q, t: 0 });
  }

  /** The arms' prior precision of weight i: the intercept's or a context term's. */
  private q0(i: number): number {
    return i === 0 ? this.q0c : this.q0v;
  }

  /** Decays the baseline's data share to nowMs (never backwards). */
  private bringBaseline(nowMs: number): void {
    const w = this.baseline;
    if (nowMs <= w.t) return;
    if (this.decayRate > 0 && w.t > 0) {
      const g = Math.exp(-(nowMs - w.t) * this.decayRate);
      const q0 = this.q0b;
      for (let i = 0; i < w.m.length; i++) {
        const eta0 = q0 * this.m0b[i]!;
        const q = q0 + (w.q[i]! - q0) * g;
        w.m[i] = (eta0 + (w.q[i]! * w.m[i]! - eta0) * g) / q;
        w.q[i] = q;
      }
    }
    w.t = nowMs;
  }

  /** Decays an arm's data share to nowMs toward its prior (mean 0). */
  private bringArm(a: Weights, nowMs: number): void {
    if (nowMs <= a.t) return;
    if (this.decayRate > 0 && a.t > 0) {
      const g = Math.exp(-(nowMs - a.t) * this.decayRate);
      for (let i = 0; i < a.m.length; i++) {
        const q0 = this.q0(i);
        const q = q0 + (a.q[i]! - q0) * g;
        a.m[i] = (a.q[i]! * a.m[i]! * g) / q;
        a.q[i] = q;
      }
    }
    a.t = nowMs;
  }

  private armAt(armId: string, nowMs: number): Weights {
    let a = this.arms.get(armId);
    if (!a) {
      this.add(armId);
      a = this.arms.get(armId)!;
    }
    this.bringArm(a, nowMs);
    this.bringBaseline(nowMs);
    return a;
  }

  /** The arm's log-odds at context x (see ArmPrediction), into `out`. */
  predict(armId: string, x: ArrayLike<number>, nowMs: number, out: ArmPrediction): ArmPrediction {
    const a = this.armAt(armId, nowMs);
    if (this.external) return this.predictMerged(armId, a, x, 0, nowMs, out);
    return this.predictOwn(a, x, 0, out);
  }

  /**
   * predict() on the row x[at .. at + dims): the same arithmetic, without a subarray view per arm
   * (decide() scores every candidate arm from one buffer of rows).
   */
  predictAt(armId: string, x: Float64Array, at: number, nowMs: number, out: ArmPrediction): ArmPrediction {
    const a = this.armAt(armId, nowMs);
    if (this.external) return this.predictMerged(armId, a, x, at, nowMs, out);
    return this.predictOwn(a, x, at, out);
  }

  private predictOwn(a: Weights, x: ArrayLike<number>, at: number, out: ArmPrediction): ArmPrediction {
    const b = this.baseline;
    const c = this.centre;
    const D = this.opts.dims;
    let plain = (b.m[0]! + a.m[0]!) * x[at]!;
    let ctx = 0;
    for (let i = 1; i < D; i++) {
      const xi = x[at + i]!;
      plain += b.m[i]! * xi;
      ctx += a.m[i]! * (xi - c[i]!);
    }
    out.plain = plain;
    out.full = plain + ctx;
    out.sd = Math.abs(x[at]!) / Math.sqrt(a.q[0]!);
    return out;
  }

  /** predict() with the other models' learning added: natural parameters summed per weight. */
  private predictMerged(armId: string, a: Weights, x: ArrayLike<number>, at: number, nowMs: number, out: ArmPrediction): ArmPrediction {
    const ext = this.external!;
    const eb = ext.baseline;
    const ea = ext.arms.get(armId);
    const gb = eb ? this.gammaTo(eb.t, nowMs) : 0;
    const ga = ea ? this.gammaTo(ea.t, nowMs) : 0;
    const b = this.baseline;
    const c = this.centre;
    let plain = 0;
    let ctx = 0;
    let qa0 = 0;
    for (let i = 0; i < this.opts.dims; i++) {
      const xi = x[at + i]!;
      const qb = b.q[i]! + (eb ? eb.dq[i]! * gb : 0);
      const mb = (b.q[i]! * b.m[i]! + (eb ? eb.deta[i]! * gb : 0)) / qb;
      const qa = a.q[i]! + (ea ? ea.dq[i]! * ga : 0);
      const ma = (a.q[i]! * a.m[i]! + (ea ? ea.deta[i]! * ga : 0)) / qa;
      plain += mb * xi;
      if (i === 0) {
        plain += ma * xi;
        qa0 = qa;
      } else ctx += ma * (xi - c[i]!);
    }
    out.plain = plain;
    out.full = plain + ctx;
    out.sd = Math.abs(x[at]!) / Math.sqrt(qa0);
    return out;
  }

  /** The standard deviation of the arm's context terms at x (what drawing them would add; reports and tests). */
  contextSd(armId: string, x: ArrayLike<number>, nowMs: number): number {
    const a = this.armAt(armId, nowMs);
    let v = 0;
    for (let i = 1; i < this.opts.dims; i++) {
      const z = x[i]! - this.centre[i]!;
      v += (z * z) / a.q[i]!;
    }
    return Math.sqrt(v);
  }

  private gammaTo(t: number, nowMs: number): number {
    return this.decayRate > 0 && nowMs > t ? Math.exp(-(nowMs - t) * this.decayRate) : 1;
  }

  /** The weight of the arms' context terms in the policy's score now: P(they make better decisions) (evidence.ts). */
  contextWeight(): number {
    return this.evidence.weight();
  }

  /** This model's own learning beyond its prior (what a partition shares with the others), to 6 significant digits. */
  ownShare(): LogisticShare {
    const r = (v: number) => Number(v.toPrecision(6));
    const share = (w: Weights, q0: (i: number) => number, m0: Float64Array | undefined): ShareWeights => ({
      dq: Array.from(w.q, (q, i) => r(q - q0(i))),
      deta: Array.from(w.q, (q, i) => r(q * w.m[i]! - (m0 ? q0(i) * m0[i]! : 0))),
      t: w.t,
    });
    const q0b = () => this.q0b;
    const q0a = (i: number) => this.q0(i);
    return {
      baseline: share(this.baseline, q0b, this.m0b),
      arms: Object.fromEntries([...this.arms].map(([k, w]) => [k, share(w, q0a, undefined)])),
      centre: { w: r(this.sums.w), wx: Array.from(this.sums.wx, r), t: this.sums.t },
      evidence: this.evidence.share(),
    };
  }

  /** Replaces what other models learned with the sum of these shares (each decayed to the latest of their times). */
  setExternal(shares: readonly LogisticShare[]): void {
    this.evidence.setExternal(shares.flatMap((s) => (s.evidence ? [s.evidence] : [])));
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
    let centre: CentreSums | undefined;
    const arms = new Map<string, ShareWeights>();
    for (const sh of shares) {
      if (sh.baseline.dq.length === this.opts.dims) baseline = add(baseline, sh.baseline);
      for (const [k, w] of Object.entries(sh.arms)) if (w.dq.length === this.opts.dims) arms.set(k, add(arms.get(k), w));
      if (sh.centre && sh.centre.wx.length === this.opts.dims) {
        const c = add(centre ? { dq: [centre.w], deta: centre.wx, t: centre.t } : undefined, { dq: [sh.centre.w], deta: sh.centre.wx, t: sh.centre.t });
        centre = { w: c.dq[0]!, wx: c.deta, t: c.t };
      }
    }
    this.external = { baseline, arms, centre };
  }

  /** P(conversion) under the arm at the full model's posterior mean (no draw). */
  meanConversion(armId: string, x: ArrayLike<number>, nowMs: number): number {
    return sigmoid(this.predict(armId, x, nowMs, { full: 0, plain: 0, sd: 0 }).full);
  }

  /** Learns one observation (y = 1: converted) of the arm in context x at event time nowMs. */
  learn(armId: string, x: ArrayLike<number>, y: 0 | 1, nowMs: number): void {
    const a = this.armAt(armId, nowMs);
    const b = this.baseline;
    const c = this.centre;
    // The prior along the observation: the full model's mean and variance, baseline included.
    let mu = 0;
    let v = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const zi = xi - c[i]!;
      mu += b.m[i]! * xi + a.m[i]! * zi;
      v += (xi * xi) / b.q[i]! + (zi * zi) / a.q[i]!;
    }
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
      const zi = xi - c[i]!;
      if (xi !== 0) {
        b.m[i]! += (xi / b.q[i]!) * r;
        b.q[i]! += xi * xi * h;
      }
      a.m[i]! += (zi / a.q[i]!) * r;
      a.q[i]! += zi * zi * h;
    }
    this.addToCentre(x, nowMs);
  }

  /** The running mean of the contexts learned (forgetting with the half-life); moves the centre on schedule. */
  private addToCentre(x: ArrayLike<number>, nowMs: number): void {
    const s = this.sums;
    const g = nowMs > s.t ? this.gammaTo(s.t, nowMs) : 1;
    s.w = s.w * g + 1;
    for (let i = 0; i < x.length; i++) s.wx[i] = s.wx[i]! * g + x[i]!;
    if (nowMs > s.t) s.t = nowMs;
    if (++this.learnsSinceMove >= (this.moves >= 4 ? CENTRE_MOVE_EVERY : 16 << this.moves)) this.moveCentre();
  }

  /**
   * Moves the centre to the running mean (own and other partitions' contexts) and re-expresses every
   * arm around it without changing what it predicts: c + v·(x − x̄) = c' + v·(x − x̄') for
   * c' = c + v·(x̄' − x̄). Every arm at once, so all of them share one centre.
   */
  private moveCentre(): void {
    this.learnsSinceMove = 0;
    this.moves++;
    const s = this.sums;
    const e = this.external?.centre;
    const ge = e ? this.gammaTo(e.t, s.t) : 0;
    const w = s.w + (e ? e.w * ge : 0);
    if (!(w > 0)) return;
    const next = new Float64Array(this.opts.dims);
    for (let i = 1; i < next.length; i++) next[i] = (s.wx[i]! + (e ? (e.wx[i] ?? 0) * ge : 0)) / w;
    for (const a of this.arms.values()) {
      let shift = 0;
      for (let i = 1; i < next.length; i++) shift += a.m[i]! * (next[i]! - this.centre[i]!);
      a.m[0]! += shift;
    }
    this.centre = next;
  }

  /**
   * A failure learned earlier becomes a success (its decision converted): the posterior times e^s,
   * i.e. the means move by Σx and Σz (weight 1). With 0 < weight < 1, a partial turn: `retract` uses it.
   */
  turnToSuccess(armId: string, x: ArrayLike<number>, nowMs: number, weight = 1): void {
    const a = this.armAt(armId, nowMs);
    const b = this.baseline;
    const c = this.centre;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      b.m[i]! += (weight * xi) / b.q[i]!;
      a.m[i]! += (weight * (xi - c[i]!)) / a.q[i]!;
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

  /** The arm's weights on the raw features (mean and sd), baseline included, for reports. */
  describe(armId: string): { mean: number[]; sd: number[] } | undefined {
    const a = this.arms.get(armId);
    if (!a) return undefined;
    // Uncentred, the bias carries the intercept less the context terms at the centre.
    let atCentre = 0;
    for (let i = 1; i < a.m.length; i++) atCentre += a.m[i]! * this.centre[i]!;
    return { mean: Array.from(a.m, (m, i) => m + this.baseline.m[i]! - (i === 0 ? atCentre : 0)), sd: Array.from(a.q, (q) => 1 / Math.sqrt(q)) };
  }

  toJSON(): LogisticState {
    const w = (x: Weights): WeightsJSON => ({ m: [...x.m], q: [...x.q], t: x.t });
    return {
      baseline: w(this.baseline),
      arms: Object.fromEntries([...this.arms].map(([k, v]) => [k, w(v)])),
      centre: { at: [...this.centre], w: this.sums.w, wx: [...this.sums.wx], t: this.sums.t, learns: this.learnsSinceMove, moves: this.moves },
      evidence: this.evidence.toJSON(),
    };
  }

  static fromJSON(opts: LogisticOptions, s: LogisticState): LogisticArms {
    const l = new LogisticArms(opts);
    const w = (x: WeightsJSON): Weights => {
      if (x.m.length !== opts.dims || x.q.length !== opts.dims) throw new Error(`logistic weights have ${x.m.length} features, the model ${opts.dims}`);
      return { m: Float64Array.from(x.m), q: Float64Array.from(x.q), t: x.t };
    };
    l.baseline = w(s.baseline);
    for (const [k, v] of Object.entries(s.arms)) l.arms.set(k, w(v));
    l.centre = Float64Array.from(s.centre.at);
    l.sums.w = s.centre.w;
    l.sums.wx = Float64Array.from(s.centre.wx);
    l.sums.t = s.centre.t;
    l.learnsSinceMove = s.centre.learns;
    l.moves = s.centre.moves;
    l.evidence.restore(s.evidence);
    return l;
  }
}
