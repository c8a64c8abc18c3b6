// Beta posteriors per (arm, segment) with a promotion-wide level, forgetting in event time.
//
// Counts are kept as decayed sums of successes s and failures f. Forgetting multiplies both by
// γ = 2^(−Δt/halfLife), which is the DESIGN's pull toward the prior (α ← α₀ + γ(α − α₀)) written on the
// counts. A segment's prior is the arm-wide posterior mean scaled to strength m, so a segment with few
// observations starts from what the arm has learned everywhere (DESIGN "Hierarchy").
//
// Two refinements of the DESIGN's α₀ = m·μ (posterior.test.ts shows both):
// - μ is the arm's posterior mean from the *other* segments' data (the arm-wide counts minus this
//   segment's): the arm-wide posterior already holds this segment's observations, and borrowing it
//   whole would count them twice (with a single segment, up to m observations twice over).
// - the strength is min(m, α₋ + β₋), the weight of that borrowed posterior itself: a segment cannot
//   borrow more certainty than the others have. An arm added at runtime (nothing learned anywhere)
//   then starts from the configured prior Beta(priorAlpha, priorBeta) in every segment and gets
//   explored, instead of from Beta(m/2, m/2), which would claim m pseudo-observations of a 50% rate
//   that nobody made.

export interface PosteriorOptions {
  priorAlpha: number;
  priorBeta: number;
  /** m: pseudo-observations a segment borrows from its arm-wide posterior. */
  hierarchyStrength: number;
  /** 0 turns forgetting off. */
  halfLifeMs: number;
}

/** Decayed counts with the event time they were last brought up to date. */
export interface Counts {
  s: number;
  f: number;
  t: number;
}

export interface BetaParams {
  alpha: number;
  beta: number;
}

interface Arm {
  global: Counts;
  segments: Map<string, Counts>;
}

export interface ArmTableState {
  arms: Record<string, { global: Counts; segments: Record<string, Counts> }>;
}

export class ArmTable {
  private readonly arms = new Map<string, Arm>();
  /** ln 2 / half-life, or 0 with forgetting off. */
  private readonly decayRate: number;
  constructor(readonly opts: PosteriorOptions) {
    this.decayRate = opts.halfLifeMs > 0 ? Math.LN2 / opts.halfLifeMs : 0;
  }

  has(armId: string): boolean {
    return this.arms.has(armId);
  }
  ids(): string[] {
    return [...this.arms.keys()];
  }
  /** A new arm starts from the prior (cold start); adding an existing one keeps what it learned. */
  add(armId: string): void {
    if (!this.arms.has(armId)) this.arms.set(armId, { global: { s: 0, f: 0, t: 0 }, segments: new Map() });
  }
  remove(armId: string): void {
    this.arms.delete(armId);
  }

  /** γ for counts last brought up to date at c.t: 2^(−Δt/halfLife), 1 when Δt ≤ 0 or forgetting is off. */
  private gamma(c: Counts, nowMs: number): number {
    if (this.decayRate === 0 || nowMs <= c.t) return 1;
    const x = (nowMs - c.t) * this.decayRate;
    // Between decisions Δt is seconds against a half-life of days (x ≈ 1e-5): there the series to
    // x⁴ is e^−x within one unit in the last place (remainder below x⁵/120 < 1e-17; it differs from
    // Math.exp in ~1% of values, by one ulp) at a fraction of Math.exp's cost, which ran twice per arm
    // per decision (bench/decide.bench.ts profile: 8% of decide at 50 arms).
    if (x < 1e-3) return 1 - x * (1 - x * (0.5 - x * (1 / 6 - x / 24)));
    return Math.exp(-x);
  }

  private decayed(c: Counts, nowMs: number): { s: number; f: number } {
    const g = this.gamma(c, nowMs);
    return { s: c.s * g, f: c.f * g };
  }

  /** The arm-wide posterior. */
  globalPosterior(armId: string, nowMs: number): BetaParams {
    const arm = this.arms.get(armId);
    const { priorAlpha: a0, priorBeta: b0 } = this.opts;
    if (!arm) return { alpha: a0, beta: b0 };
    const g = this.gamma(arm.global, nowMs);
    return { alpha: a0 + arm.global.s * g, beta: b0 + arm.global.f * g };
  }

  /** The prior a segment starts from for this arm: the other segments' posterior mean at strength min(m, their weight). */
  segmentPrior(armId: string, segment: string, nowMs: number): BetaParams {
    const out = { alpha: 0, beta: 0 };
    this.compute(armId, segment, nowMs, out, false);
    return out;
  }

  /** The posterior for one segment: its own decayed counts on top of the prior borrowed from the other segments. */
  posterior(armId: string, segment: string, nowMs: number): BetaParams {
    const out = { alpha: 0, beta: 0 };
    this.compute(armId, segment, nowMs, out, true);
    return out;
  }

  /** posterior() written into `out` (no allocation: the policy calls this once per arm per decision). */
  posteriorInto(armId: string, segment: string, nowMs: number, out: BetaParams): BetaParams {
    this.compute(armId, segment, nowMs, out, true);
    return out;
  }

  private compute(armId: string, segment: string, nowMs: number, out: BetaParams, withOwn: boolean): void {
    const arm = this.arms.get(armId);
    const { priorAlpha: a0, priorBeta: b0, hierarchyStrength: m } = this.opts;
    if (!arm) {
      out.alpha = a0;
      out.beta = b0;
      return;
    }
    const gg = this.gamma(arm.global, nowMs);
    let os = arm.global.s * gg;
    let of = arm.global.f * gg;
    let ss = 0;
    let sf = 0;
    const seg = arm.segments.get(segment);
    if (seg) {
      const g = this.gamma(seg, nowMs);
      ss = seg.s * g;
      sf = seg.f * g;
      // Clamped: the two sums decay from different times and may differ in the last bits.
      os = os > ss ? os - ss : 0;
      of = of > sf ? of - sf : 0;
    }
    const oa = a0 + os;
    const ob = b0 + of;
    const n = oa + ob;
    const k = m < n ? m : n;
    out.alpha = (k * oa) / n + (withOwn ? ss : 0);
    out.beta = (k * ob) / n + (withOwn ? sf : 0);
  }

  /** Observations (decayed) an arm has in a segment. */
  observations(armId: string, segment?: string, nowMs = 0): number {
    const arm = this.arms.get(armId);
    if (!arm) return 0;
    const c = segment === undefined ? arm.global : arm.segments.get(segment);
    if (!c) return 0;
    const d = this.decayed(c, nowMs);
    return d.s + d.f;
  }

  /** Adds one Bernoulli observation (success 1 or 0) at event time nowMs. */
  update(armId: string, segment: string, success: 0 | 1, nowMs: number): void {
    this.add(armId);
    const arm = this.arms.get(armId)!;
    let seg = arm.segments.get(segment);
    if (!seg) {
      seg = { s: 0, f: 0, t: 0 };
      arm.segments.set(segment, seg);
    }
    this.addTo(arm.global, success, nowMs);
    this.addTo(seg, success, nowMs);
  }

  /** Decays c to nowMs and adds the observation; one older than c's time enters already decayed. */
  private addTo(c: Counts, success: 0 | 1, nowMs: number): void {
    if (nowMs >= c.t) {
      const g = this.gamma(c, nowMs);
      c.s = c.s * g + success;
      c.f = c.f * g + (1 - success);
      c.t = nowMs;
    } else {
      const w = this.decayRate === 0 ? 1 : Math.exp(-(c.t - nowMs) * this.decayRate);
      c.s += success * w;
      c.f += (1 - success) * w;
    }
  }

  segmentsOf(armId: string): string[] {
    return [...(this.arms.get(armId)?.segments.keys() ?? [])];
  }

  toJSON(): ArmTableState {
    const arms: ArmTableState["arms"] = {};
    for (const [id, a] of this.arms) arms[id] = { global: { ...a.global }, segments: Object.fromEntries([...a.segments].map(([k, v]) => [k, { ...v }])) };
    return { arms };
  }

  static fromJSON(opts: PosteriorOptions, state: ArmTableState): ArmTable {
    const t = new ArmTable(opts);
    for (const [id, a] of Object.entries(state.arms))
      t.arms.set(id, { global: { ...a.global }, segments: new Map(Object.entries(a.segments).map(([k, v]) => [k, { ...v }])) });
    return t;
  }
}
