// Beta posteriors per (arm, segment) with a promotion-wide level, forgetting in event time.
//
// Counts are kept as decayed sums of successes s and failures f. Forgetting multiplies both by
// γ = 2^(−Δt/halfLife), which is the DESIGN's pull toward the prior (α ← α₀ + γ(α − α₀)) written on the
// counts. A segment's prior is the arm-wide posterior mean scaled to strength m, so a segment with few
// observations starts from what the arm has learned everywhere (DESIGN "Hierarchy").

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
  constructor(readonly opts: PosteriorOptions) {}

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

  private gamma(c: Counts, nowMs: number): number {
    const h = this.opts.halfLifeMs;
    if (h <= 0 || nowMs <= c.t || c.t === 0) return 1;
    return Math.pow(2, -(nowMs - c.t) / h);
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

  /** The posterior for one segment, backing off to the arm-wide one while the segment is sparse. */
  posterior(armId: string, segment: string, nowMs: number): BetaParams {
    const arm = this.arms.get(armId);
    const { priorAlpha: a0, priorBeta: b0, hierarchyStrength: m } = this.opts;
    if (!arm) return { alpha: a0, beta: b0 };
    const gg = this.gamma(arm.global, nowMs);
    const ga = a0 + arm.global.s * gg;
    const gb = b0 + arm.global.f * gg;
    const mu = ga / (ga + gb);
    const seg = arm.segments.get(segment);
    if (!seg) return { alpha: m * mu, beta: m * (1 - mu) };
    const g = this.gamma(seg, nowMs);
    return { alpha: m * mu + seg.s * g, beta: m * (1 - mu) + seg.f * g };
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
    for (const c of [arm.global, seg]) {
      const g = this.gamma(c, nowMs);
      c.s = c.s * g + success;
      c.f = c.f * g + (1 - success);
      if (nowMs > c.t) c.t = nowMs;
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
