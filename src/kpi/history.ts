// Time series for the dashboard, one point per KPI snapshot. Memory is bounded: when full, the older
// half is thinned to every other point, so a long run keeps its whole shape at coarser resolution.
import type { LiveSnapshot } from "./snapshot.ts";
import type { RegretState } from "./regret.ts";

export interface ArmPoint {
  mean: number;
  lo: number;
  hi: number;
  share: number;
  conv: number;
  uplift: number | null;
  upLo: number | null;
  upHi: number | null;
  stock: number | null;
  spentCents: number | null;
  reservedCents: number | null;
  budgetCents: number | null;
  /** Decision points where a guard excluded it, cumulative. */
  excluded: number;
}

export interface HistoryPoint {
  /** Wall-clock ms. */
  t: number;
  eventTimeMs: number;
  decisions: number;
  /** Decisions per wall-clock second since the previous point. */
  decisionRate: number;
  deadLetters: number;
  p50: number;
  p99: number;
  regret: number | null;
  incMargin: number | null;
  oracleMargin: number | null;
  /** What the best single promotion would have earned as a fixed rule on the same decision points. */
  bestFixedMargin: number | null;
  arms: Record<string, ArmPoint>;
  /**
   * Safe start (issue 23): the mode, the share of the mode's decisions the shop's rule served, and the
   * learner against the rule per decision, in the objective's unit (cents of margin, or conversions with
   * bandit.reward conversion): the apprentice's doubly robust estimate with its 95% interval, or
   * (conservative) the bound's slack per closed decision with its lower end.
   */
  safe?: { mode: string; baselineShare: number; mean: number | null; lo: number | null; hi: number | null } | undefined;
}

export function toPoint(s: LiveSnapshot, prev: HistoryPoint | undefined, regret: RegretState | null): HistoryPoint {
  const arms: Record<string, ArmPoint> = {};
  for (const a of s.arms) {
    arms[a.id] = {
      mean: a.posterior.mean,
      lo: a.posterior.ci95[0],
      hi: a.posterior.ci95[1],
      share: a.share,
      conv: a.conversion.estimate,
      uplift: a.uplift?.estimate ?? null,
      upLo: a.uplift?.ci95[0] ?? null,
      upHi: a.uplift?.ci95[1] ?? null,
      stock: a.stock,
      spentCents: a.budget?.spentCents ?? null,
      reservedCents: a.budget?.reservedCents ?? null,
      budgetCents: a.budget?.budgetCents ?? null,
      excluded: a.guardExclusions,
    };
  }
  const dt = prev ? (s.wallMs - prev.t) / 1000 : 0;
  return {
    t: s.wallMs,
    eventTimeMs: s.eventTimeMs,
    decisions: s.decisions,
    decisionRate: prev && dt > 0 ? Math.max(0, (s.decisions - prev.decisions) / dt) : 0,
    deadLetters: Object.values(s.deadLetters).reduce((x, y) => x + y, 0),
    p50: s.latencyMs.p50,
    p99: s.latencyMs.p99,
    regret: regret && regret.decisions > 0 ? regret.cumulativeRegret : null,
    incMargin: regret && regret.decisions > 0 ? regret.incrementalMargin : null,
    oracleMargin: regret && regret.decisions > 0 ? regret.oracleMargin : null,
    bestFixedMargin: regret && regret.decisions > 0 ? regret.bestFixedMargin : null,
    arms,
    ...(s.safe ? { safe: safePoint(s.safe) } : {}),
  };
}

function safePoint(s: NonNullable<LiveSnapshot["safe"]>): NonNullable<HistoryPoint["safe"]> {
  const fin = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  if (s.evidence) return { mode: s.mode, baselineShare: s.baselineShare, mean: fin(s.evidence.mean), lo: fin(s.evidence.lo), hi: fin(s.evidence.hi) };
  if (s.bound && s.bound.closed > 0) {
    const per = s.bound.slackPerDecision;
    return { mode: s.mode, baselineShare: s.baselineShare, mean: fin(per.mean), lo: fin(per.lo), hi: null };
  }
  return { mode: s.mode, baselineShare: s.baselineShare, mean: null, lo: null, hi: null };
}

export class History {
  readonly points: HistoryPoint[] = [];
  constructor(readonly max: number) {}
  push(p: HistoryPoint): void {
    this.points.push(p);
    if (this.points.length > this.max) {
      const half = Math.floor(this.points.length / 2);
      const older = this.points.slice(0, half).filter((_, i) => i % 2 === 0);
      this.points.splice(0, half, ...older);
    }
  }
  get last(): HistoryPoint | undefined {
    return this.points[this.points.length - 1];
  }
}
