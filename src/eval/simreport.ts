// Figures of a simulator run: cumulative regret, share of the oracle's incremental margin (whole run
// and last half), a rolling share, and recovery after each scenario change.
import type { JoinedDecision, SimChange, SimRun } from "./sim.ts";

export interface Recovery {
  /** Decisions after the change until a window of `windowDecisions` at or above the threshold ends; null if none does. */
  afterDecisions: number | null;
  withinTarget: boolean;
  /** Share of the oracle's margin over the `recoveryWithinDecisions` decisions after the change. */
  shareAfter: number;
  /** The lowest rolling-window share after the change. */
  lowestWindowShare: number;
  /** The share over the window just before the change. */
  shareBefore: number | null;
  /** Decisions after the change until a window reaches the threshold times shareBefore (recovery relative to the policy's own level); null if none does. */
  afterDecisionsRelative: number | null;
}

/**
 * Safe start against the shop's rule (issue 23, `--baseline`): at each checkpoint (every 1,000
 * decisions), each policy's cumulative total margin at its decision points over the rule's at the same
 * points (what the rule's arm would have earned there), both from the simulator's truth (expected
 * margins: no promotion's plus the arm's incremental), holdout and forced-control decisions included;
 * and the decision at which the apprentice graduated (null: never).
 */
export interface BaselineReport {
  name: string;
  checkpoints: number[];
  shareOfBaseline: Record<string, number[]>;
  graduatedAt: { apprentice: number | null };
  /** The lowest of each policy's shares over the checkpoints. */
  worstShareOfBaseline: Record<string, number>;
  /** Decisions served by the rule, as a share of the policy's decisions (forced controls left out; conservative: its fallbacks; apprentice: the unexplored ones, before and after graduating). */
  servedByBaseline: Record<string, number>;
}

export interface SimReport {
  scenario: string;
  description: string;
  decisions: number;
  seed: number;
  policies: Record<string, string>;
  /** Cumulative regret in cents of expected incremental margin: Σ (best eligible arm − chosen arm), policy decisions only. */
  regret: Record<string, number>;
  /** Σ chosen incremental margin / Σ oracle incremental margin over the whole run. */
  marginShareOfOracle: Record<string, number>;
  lastHalf: { regret: Record<string, number>; marginShareOfOracle: Record<string, number> };
  incrementalMarginCents: Record<string, number>;
  oracleMarginCents: Record<string, number>;
  joinedDecisions: Record<string, number>;
  holdoutDecisions: Record<string, number>;
  simHours: number;
  /** Diagnostic: the share a hindsight-best choice per engine segment would earn (whole run, last half); see segmentOracleShare. */
  segmentOracleShare: { all: number | null; lastHalf: number | null };
  changes: (SimChange & { recovery: Record<string, Recovery> })[];
  series: { decisions: number[]; rollingShare: Record<string, (number | null)[]>; cumulativeRegret: Record<string, number[]> };
  settings: { windowDecisions: number; recoveryShare: number; recoveryWithinDecisions: number; sliceMs: number };
  baseline?: BaselineReport;
}

/** The `baseline` section from runs whose decisions reported the rule's arm (every policy but `baseline` itself). */
export function baselineReport(runs: readonly SimRun[], name: string, every = 1000): BaselineReport {
  const n = Math.min(...runs.map((r) => r.decisions));
  const checkpoints: number[] = [];
  for (let c = every; c <= n; c += every) checkpoints.push(c);
  if (checkpoints[checkpoints.length - 1] !== n) checkpoints.push(n);
  const shareOfBaseline: Record<string, number[]> = {};
  const worst: Record<string, number> = {};
  const served: Record<string, number> = {};
  for (const r of runs) {
    if (!r.safe || r.policy === "baseline") continue;
    const out: number[] = [];
    let s = 0;
    let b = 0;
    let k = 0;
    for (let i = 1; i <= n; i++) {
      s += r.safe.served[i]!;
      b += r.safe.baseline[i]!;
      if (i === checkpoints[k]) {
        out.push(b > 0 ? s / b : NaN);
        k++;
      }
    }
    shareOfBaseline[r.policy] = out;
    worst[r.policy] = Math.min(...out);
  }
  for (const r of runs) if (r.safe) served[r.policy] = r.safe.servedByBaseline / Math.max(1, r.safe.reported);
  return { name, checkpoints, shareOfBaseline, graduatedAt: { apprentice: runs.find((r) => r.policy === "apprentice")?.safe?.graduatedAt ?? null }, worstShareOfBaseline: worst, servedByBaseline: served };
}

/**
 * A diagnostic ceiling for policies that see only the engine's segments: in hindsight, per segment,
 * rank the arms by their mean true incremental margin and always take the best eligible one. Its share
 * of the per-shopper oracle shows how much the segment rules can capture at all.
 */
export function segmentOracleShare(joined: readonly JoinedDecision[], from = 0): number | null {
  const sums = new Map<string, Map<string, { s: number; n: number }>>();
  for (const j of joined) {
    if (j.index <= from) continue;
    let m = sums.get(j.segment);
    if (!m) sums.set(j.segment, (m = new Map()));
    for (const c of j.candidates) {
      const v = j.arms[c];
      if (v === undefined) continue;
      const a = m.get(c) ?? { s: 0, n: 0 };
      a.s += v;
      a.n++;
      m.set(c, a);
    }
  }
  let got = 0;
  let best = 0;
  for (const j of joined) {
    if (j.index <= from) continue;
    const m = sums.get(j.segment)!;
    let pick: string | undefined;
    let pickMean = -Infinity;
    let top = 0;
    for (const c of j.candidates) {
      const v = j.arms[c];
      if (v === undefined) continue;
      if (v > top) top = v;
      const a = m.get(c)!;
      if (a.s / a.n > pickMean) {
        pickMean = a.s / a.n;
        pick = c;
      }
    }
    got += pick === undefined ? 0 : j.arms[pick]!;
    best += top;
  }
  return best > 0 ? got / best : null;
}

export function shareBetween(r: SimRun, a: number, b: number): number | null {
  const hi = Math.min(b, r.decisions);
  const o = r.oracle[hi]! - r.oracle[Math.max(0, a)]!;
  return o > 0 ? (r.incremental[hi]! - r.incremental[Math.max(0, a)]!) / o : null;
}

export interface SimReportOptions {
  scenario: string;
  description: string;
  seed: number;
  policies: Record<string, string>;
  windowDecisions: number;
  recoveryShare: number;
  recoveryWithinDecisions: number;
  sliceMs: number;
  /** Points in the rolling series. */
  points?: number;
}

export function simReport(runs: readonly SimRun[], o: SimReportOptions): SimReport {
  const n = Math.min(...runs.map((r) => r.decisions));
  const half = Math.floor(n / 2);
  const w = Math.min(o.windowDecisions, n);
  const by = <T>(f: (r: SimRun) => T): Record<string, T> => Object.fromEntries(runs.map((r) => [r.policy, f(r)]));
  const stepN = Math.max(1, Math.floor(n / (o.points ?? 200)));
  const xs: number[] = [];
  for (let b = stepN; b <= n; b += stepN) xs.push(b);
  const ref = runs.find((r) => r.policy === "engine") ?? runs[0]!;
  const changes = ref.changes
    .filter((c) => c.atDecision < n)
    .map((c) => ({
      ...c,
      recovery: by((r) => {
        const before = c.atDecision >= w ? shareBetween(r, c.atDecision - w, c.atDecision) : null;
        let after: number | null = null;
        let afterRel: number | null = null;
        let lowest = Infinity;
        for (let b = c.atDecision + w; b <= n; b += 50) {
          const s = shareBetween(r, b - w, b);
          if (s === null) continue;
          lowest = Math.min(lowest, s);
          if (after === null && s >= o.recoveryShare) after = b - c.atDecision;
          if (afterRel === null && before !== null && s >= o.recoveryShare * before) afterRel = b - c.atDecision;
        }
        return {
          afterDecisions: after,
          withinTarget: after !== null && after <= o.recoveryWithinDecisions,
          shareAfter: shareBetween(r, c.atDecision, c.atDecision + o.recoveryWithinDecisions) ?? NaN,
          lowestWindowShare: lowest === Infinity ? NaN : lowest,
          shareBefore: before,
          afterDecisionsRelative: afterRel,
        };
      }),
    }));
  return {
    scenario: o.scenario,
    description: o.description,
    decisions: n,
    seed: o.seed,
    policies: o.policies,
    regret: by((r) => r.regret[n]!),
    marginShareOfOracle: by((r) => shareBetween(r, 0, n) ?? NaN),
    lastHalf: { regret: by((r) => r.regret[n]! - r.regret[half]!), marginShareOfOracle: by((r) => shareBetween(r, half, n) ?? NaN) },
    incrementalMarginCents: by((r) => r.incremental[n]!),
    oracleMarginCents: by((r) => r.oracle[n]!),
    joinedDecisions: by((r) => r.joined),
    holdoutDecisions: by((r) => r.holdout),
    simHours: ref.simHours,
    segmentOracleShare: { all: segmentOracleShare(ref.joinedDetail), lastHalf: segmentOracleShare(ref.joinedDetail, half) },
    changes,
    series: {
      decisions: xs,
      rollingShare: by((r) => xs.map((b) => (b < w ? shareBetween(r, 0, b) : shareBetween(r, b - w, b)))),
      cumulativeRegret: by((r) => xs.map((b) => r.regret[b]!)),
    },
    settings: { windowDecisions: w, recoveryShare: o.recoveryShare, recoveryWithinDecisions: o.recoveryWithinDecisions, sliceMs: o.sliceMs },
  };
}
