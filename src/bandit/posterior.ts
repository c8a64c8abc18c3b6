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
    const { priorAlpha: a0, priorBeta: b0 } = this.opts;
    const out = { alpha: a0, beta: b0 };
    for (let t: ArmTable | undefined = this; t; t = t === this ? this.external : undefined) {
      const arm = t.arms.get(armId);
      if (!arm) continue;
      const g = t.gamma(arm.global, nowMs);
      out.alpha += arm.global.s * g;
      out.beta += arm.global.f * g;
    }
    return out;
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
    const { priorAlpha: a0, priorBeta: b0, hierarchyStrength: m } = this.opts;
    let gs = 0;
    let gf = 0;
    let ss = 0;
    let sf = 0;
    // This table's counts, then (when partitions share what they learned) the other partitions' sum.
    for (let t: ArmTable | undefined = this; t; t = t === this ? this.external : undefined) {
      const arm = t.arms.get(armId);
      if (!arm) continue;
      const gg = t.gamma(arm.global, nowMs);
      gs += arm.global.s * gg;
      gf += arm.global.f * gg;
      const seg = arm.segments.get(segment);
      if (seg) {
        const g = t.gamma(seg, nowMs);
        ss += seg.s * g;
        sf += seg.f * g;
      }
    }
    // Clamped: the two sums decay from different times and may differ in the last bits.
    const os = gs > ss ? gs - ss : 0;
    const of = gf > sf ? gf - sf : 0;
    const oa = a0 + os;
    const ob = b0 + of;
    const n = oa + ob;
    const k = m < n ? m : n;
    out.alpha = (k * oa) / n + (withOwn ? ss : 0);
    out.beta = (k * ob) / n + (withOwn ? sf : 0);
  }

  /**
   * Counts learned elsewhere (other partitions, issue #8) that posteriors add to this table's own.
   * Posteriors are sums of counts, so a merged view is own + the others' sum; the external table is
   * derived state (rebuilt from the others' published tables), never serialised with this one.
   */
  external: ArmTable | undefined;

  /** The sum of several tables' counts, each decayed to the later of its and the others' times. */
  static sum(opts: PosteriorOptions, states: readonly ArmTableState[]): ArmTable {
    const t = new ArmTable(opts);
    const add = (into: Counts, c: Counts) => {
      const at = Math.max(into.t, c.t);
      const gi = t.gamma(into, at);
      const gc = t.gamma(c, at);
      into.s = into.s * gi + c.s * gc;
      into.f = into.f * gi + c.f * gc;
      into.t = at;
    };
    for (const st of states)
      for (const [id, a] of Object.entries(st.arms)) {
        t.add(id);
        const arm = t.arms.get(id)!;
        add(arm.global, a.global);
        for (const [seg, c] of Object.entries(a.segments)) {
          let mine = arm.segments.get(seg);
          if (!mine) arm.segments.set(seg, (mine = { s: 0, f: 0, t: 0 }));
          add(mine, c);
        }
      }
    return t;
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

  /**
   * Takes back one failure recorded at event time `atMs` (a provisional failure whose decision
   * converted, or whose outcome will never be known), as decayed as it is by now. Never below zero.
   */
  retractFailure(armId: string, segment: string, atMs: number, nowMs: number): void {
    const arm = this.arms.get(armId);
    if (!arm) return;
    const seg = arm.segments.get(segment);
    for (const c of seg ? [arm.global, seg] : [arm.global]) {
      if (nowMs > c.t) {
        const g = this.gamma(c, nowMs);
        c.s *= g;
        c.f *= g;
        c.t = nowMs;
      }
      const w = this.decayRate === 0 ? 1 : Math.exp(-Math.max(0, c.t - atMs) * this.decayRate);
      c.f = c.f > w ? c.f - w : 0;
    }
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
