// Rolling KPIs from the engine's effects: counts per arm and per segment, holdout control, exclusions.
import type { Decision, DeadLetterReason } from "../events/index.ts";
import type { Outcome } from "../engine/index.ts";

export interface ArmStats {
  decisions: number;
  /** Closed, learnable outcomes (policy choices only: holdout control is kept apart). */
  trials: number;
  conversions: number;
  rewardSum: number;
  marginSum: number;
  marginSumSq: number;
  discountSum: number;
}

const zero = (): ArmStats => ({ decisions: 0, trials: 0, conversions: 0, rewardSum: 0, marginSum: 0, marginSumSq: 0, discountSum: 0 });

function statsOf(m: Map<string, ArmStats>, id: string): ArmStats {
  let a = m.get(id);
  if (!a) m.set(id, (a = zero()));
  return a;
}

export interface SegmentStats {
  arms: Map<string, ArmStats>;
  holdout: ArmStats;
  /** Holdout decisions at which the promotion applied (was a candidate): its matched control. */
  holdoutFor: Map<string, ArmStats>;
}

export interface KpiState {
  arms: [string, ArmStats][];
  holdout: ArmStats;
  holdoutFor?: [string, ArmStats][];
  segments: [string, { arms: [string, ArmStats][]; holdout: ArmStats; holdoutFor?: [string, ArmStats][] }][];
  exclusions: [string, Record<string, number>][];
  deadLetters: Record<string, number>;
  decisions: number;
  nothingEligible: number;
  outcomes: number;
  /** Events handled (absent from checkpoints before it was kept). */
  events?: number;
}

export class KpiAccumulator {
  readonly arms = new Map<string, ArmStats>();
  readonly holdout: ArmStats = zero();
  /**
   * Per promotion, the holdout decisions at which it applied (it was among their candidates): the
   * control its uplift is measured against. At product decisions a promotion is offered only where it
   * applies, so comparing it with every holdout decision would dilute its uplift with products it could
   * never change (issue #14).
   */
  readonly holdoutFor = new Map<string, ArmStats>();
  readonly segments = new Map<string, SegmentStats>();
  readonly exclusions = new Map<string, Record<string, number>>();
  readonly deadLetters: Record<string, number> = {};
  decisions = 0;
  nothingEligible = 0;
  outcomes = 0;
  /** Events handled, bad ones included: kept through checkpoints like the decisions, so the two compare. */
  events = 0;

  private arm(id: string): ArmStats {
    let a = this.arms.get(id);
    if (!a) this.arms.set(id, (a = zero()));
    return a;
  }
  private segment(seg: string): SegmentStats {
    let s = this.segments.get(seg);
    if (!s) this.segments.set(seg, (s = { arms: new Map(), holdout: zero(), holdoutFor: new Map() }));
    return s;
  }

  onDecision(d: Decision): void {
    this.decisions++;
    if (d.reason === "nothing-eligible") this.nothingEligible++;
    if (d.holdout) this.holdout.decisions++;
    else this.arm(d.promotionId).decisions++;
    const s = this.segment(d.segment);
    if (d.holdout) {
      s.holdout.decisions++;
      for (const c of d.explanation.candidates) {
        if (c.promotionId === "control") continue;
        statsOf(this.holdoutFor, c.promotionId).decisions++;
        statsOf(s.holdoutFor, c.promotionId).decisions++;
      }
    } else {
      let a = s.arms.get(d.promotionId);
      if (!a) s.arms.set(d.promotionId, (a = zero()));
      a.decisions++;
    }
    for (const x of d.explanation.excluded) {
      const r = (this.exclusions.get(x.promotionId) ?? this.exclusions.set(x.promotionId, {}).get(x.promotionId))!;
      r[x.reason] = (r[x.reason] ?? 0) + 1;
    }
  }

  onOutcome(o: Outcome): void {
    this.outcomes++;
    // Forced control teaches nothing; an overflowed decision (closed early for memory) has no known
    // outcome, so it is no trial either, holdout or not.
    if ((!o.learn && !o.holdout) || o.cause === "overflow") return;
    const add = (a: ArmStats) => {
      a.trials++;
      if (o.converted) a.conversions++;
      a.rewardSum += o.reward;
      const m = o.converted ? o.marginCents : 0;
      a.marginSum += m;
      a.marginSumSq += m * m;
      a.discountSum += o.discountCents;
    };
    const s = this.segment(o.segment);
    if (o.holdout) {
      add(this.holdout);
      add(s.holdout);
      for (const id of o.candidates ?? []) {
        add(statsOf(this.holdoutFor, id));
        add(statsOf(s.holdoutFor, id));
      }
    } else {
      add(this.arm(o.promotionId));
      let a = s.arms.get(o.promotionId);
      if (!a) s.arms.set(o.promotionId, (a = zero()));
      add(a);
    }
  }

  toJSON(): KpiState {
    return {
      arms: [...this.arms].map(([k, v]) => [k, { ...v }]),
      holdout: { ...this.holdout },
      holdoutFor: [...this.holdoutFor].map(([k, v]) => [k, { ...v }]),
      segments: [...this.segments].map(([k, s]) => [k, { arms: [...s.arms].map(([a, v]) => [a, { ...v }]), holdout: { ...s.holdout }, holdoutFor: [...s.holdoutFor].map(([a, v]) => [a, { ...v }]) }]),
      exclusions: [...this.exclusions].map(([k, v]) => [k, { ...v }]),
      deadLetters: { ...this.deadLetters },
      decisions: this.decisions,
      nothingEligible: this.nothingEligible,
      outcomes: this.outcomes,
      events: this.events,
    };
  }

  static fromJSON(s: KpiState): KpiAccumulator {
    const k = new KpiAccumulator();
    for (const [id, a] of s.arms) k.arms.set(id, { ...a });
    Object.assign(k.holdout, s.holdout);
    for (const [id, v] of s.holdoutFor ?? []) k.holdoutFor.set(id, { ...v });
    for (const [seg, x] of s.segments) k.segments.set(seg, { arms: new Map(x.arms.map(([a, v]) => [a, { ...v }])), holdout: { ...x.holdout }, holdoutFor: new Map((x.holdoutFor ?? []).map(([a, v]) => [a, { ...v }])) });
    for (const [id, r] of s.exclusions) k.exclusions.set(id, { ...r });
    Object.assign(k.deadLetters, s.deadLetters);
    k.decisions = s.decisions;
    k.nothingEligible = s.nothingEligible;
    k.outcomes = s.outcomes;
    k.events = s.events ?? 0;
    return k;
  }

  onDeadLetter(reason: DeadLetterReason): void {
    this.deadLetters[reason] = (this.deadLetters[reason] ?? 0) + 1;
  }
}
