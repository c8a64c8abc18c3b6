// Regret against the simulator's oracle: joins each decision with the truth of its decision point.
// Holdout (random control) and forced-control decisions are left out on both sides (issue #10).
import { LRUCache } from "lru-cache";

/** The part of a sim.truth message this needs. */
export interface TruthLike {
  eventId: string;
  arms: Record<string, number>;
}
/** The part of a decision this needs. */
export interface DecisionLike {
  eventId: string;
  promotionId: string;
  holdout: boolean;
  reason?: string | undefined;
  explanation: { candidates: { promotionId: string }[] };
}

export interface RegretState {
  /** Decisions joined with their truth (policy decisions only). */
  decisions: number;
  cumulativeRegret: number;
  /** Incremental margin (cents, expected) of what was chosen, and of the best eligible arm. */
  incrementalMargin: number;
  oracleMargin: number;
}

export class RegretTracker {
  private readonly truths: LRUCache<string, TruthLike>;
  private readonly decisions: LRUCache<string, DecisionLike>;
  readonly state: RegretState = { decisions: 0, cumulativeRegret: 0, incrementalMargin: 0, oracleMargin: 0 };
  constructor(maxWaiting = 20_000) {
    this.truths = new LRUCache({ max: maxWaiting });
    this.decisions = new LRUCache({ max: maxWaiting });
  }
  onTruth(t: TruthLike): void {
    const d = this.decisions.get(t.eventId);
    if (d) {
      this.decisions.delete(t.eventId);
      this.join(t, d);
    } else this.truths.set(t.eventId, t);
  }
  onDecision(d: DecisionLike): void {
    if (d.holdout || d.reason === "nothing-eligible") return;
    const t = this.truths.get(d.eventId);
    if (t) {
      this.truths.delete(d.eventId);
      this.join(t, d);
    } else this.decisions.set(d.eventId, d);
  }
  private join(t: TruthLike, d: DecisionLike): void {
    // The oracle picks among what the engine could offer (its candidates), not among excluded arms.
    let best = 0;
    for (const c of d.explanation.candidates) {
      const v = t.arms[c.promotionId];
      if (v !== undefined && v > best) best = v;
    }
    const chosen = t.arms[d.promotionId] ?? 0;
    this.state.decisions++;
    this.state.cumulativeRegret += Math.max(0, best - chosen);
    this.state.incrementalMargin += chosen;
    this.state.oracleMargin += best;
  }
}
