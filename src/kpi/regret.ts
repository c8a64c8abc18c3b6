// Regret against the simulator's oracle: joins each decision with the truth of its decision point.
// Holdout (random control) and forced-control decisions are left out on both sides (issue #10). Beside
// the oracle, what each promotion would have earned as a fixed rule on the same decision points
// (offered wherever it was a candidate, control elsewhere), so the best of them is the bar a learner
// must clear (issue #14).
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
  /** The same for the best single promotion as a fixed rule on these decision points, and which it is. */
  bestFixedMargin: number;
  bestFixed: string | null;
}

export class RegretTracker {
  private readonly truths: LRUCache<string, TruthLike>;
  private readonly decisions: LRUCache<string, DecisionLike>;
  readonly state: RegretState = { decisions: 0, cumulativeRegret: 0, incrementalMargin: 0, oracleMargin: 0, bestFixedMargin: 0, bestFixed: null };
  /** Per promotion: what it would have earned as a fixed rule on the joined decision points. */
  readonly fixedMargin = new Map<string, number>();
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
    if (d.holdout || d.reason === "nothing-eligible") {
      // Never joined: its truth (come first, as the simulator sends it) would hold a place in the LRU
      // until pushed out, and the waiting truths were always full (a helper's heap snapshot: 13.8 MB).
      this.truths.delete(d.eventId);
      return;
    }
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
    for (const c of d.explanation.candidates) {
      if (c.promotionId === "control") continue;
      const v = t.arms[c.promotionId];
      if (v !== undefined) this.fixedMargin.set(c.promotionId, (this.fixedMargin.get(c.promotionId) ?? 0) + v);
    }
    let top = -Infinity;
    for (const [id, v] of this.fixedMargin)
      if (v > top) {
        top = v;
        this.state.bestFixed = id;
      }
    this.state.bestFixedMargin = top === -Infinity ? 0 : top;
    this.state.decisions++;
    this.state.cumulativeRegret += Math.max(0, best - chosen);
    this.state.incrementalMargin += chosen;
    this.state.oracleMargin += best;
  }
}
