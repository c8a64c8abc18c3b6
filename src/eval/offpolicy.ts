// Off-policy estimates of a target policy's value from a log of another policy's decisions (issue
// #17): inverse propensity scoring, its self-normalised form, and doubly robust with the engine's own
// model as the direct method (Dudík, Langford & Li 2011). Each row is one logged decision with its
// outcome; a value is a mean per decision, so intervals come from the per-row terms (normal), and the
// difference of two policies on the same rows (e.g. a candidate minus always-control) from the
// per-row differences, which keeps their correlation.
// Hand-written: the estimators are a few sums each, and Open Bandit Pipeline (Python) does not run here.
// The doubly robust term is the engine's own (src/bandit/sums.ts): its apprentice mode estimates the
// learner against the shop's rule with it, decision by decision (issue 23).
import { doublyRobustTerm } from "../bandit/index.ts";

const Z95 = 1.959963984540054;
type Interval = [number, number];

/** One logged decision as the estimators see it, for one target policy. */
export interface OffPolicyRow {
  /** The logging policy's probability of the logged arm (its logged propensity). */
  pLog: number;
  /** The target policy's probability of the logged arm. */
  pTarget: number;
  /** What the logged decision earned. */
  reward: number;
  /** The direct method: the model's expected reward of the logged arm, and of the target policy (Σ π(a)·q̂(a)). */
  qLogged: number;
  qTarget: number;
}

export interface Estimate {
  value: number;
  ci95: Interval;
}

export interface OffPolicyEstimates {
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
  /** Effective sample size of the importance weights: (Σw)² / Σw². */
  ess: number;
  rows: number;
  /** The largest weight, and the share of all weight it carries. */
  maxWeight: number;
}

function meanCi(terms: Float64Array): Estimate {
  const n = terms.length;
  if (n === 0) return { value: NaN, ci95: [NaN, NaN] };
  let s = 0;
  for (const t of terms) s += t;
  const m = s / n;
  let v = 0;
  for (const t of terms) v += (t - m) ** 2;
  const se = n > 1 ? Math.sqrt(v / (n - 1) / n) : 0;
  return { value: m, ci95: [m - Z95 * se, m + Z95 * se] };
}

/** The per-row terms of each estimator (the SNIPS term is its delta-method influence). */
function terms(rows: readonly OffPolicyRow[]): { ips: Float64Array; dr: Float64Array; snipsValue: number; snipsInfl: Float64Array; ess: number; maxWeight: number } {
  const n = rows.length;
  const ips = new Float64Array(n);
  const dr = new Float64Array(n);
  let sw = 0;
  let sw2 = 0;
  let swr = 0;
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const w = r.pTarget / r.pLog;
    ips[i] = w * r.reward;
    dr[i] = doublyRobustTerm(r.qTarget, r.pTarget, r.pLog, r.reward, r.qLogged);
    sw += w;
    sw2 += w * w;
    swr += w * r.reward;
    if (w > maxWeight) maxWeight = w;
  }
  const snipsValue = sw > 0 ? swr / sw : NaN;
  const wbar = sw / Math.max(1, n);
  const snipsInfl = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    snipsInfl[i] = wbar > 0 ? snipsValue + ((r.pTarget / r.pLog) * (r.reward - snipsValue)) / wbar : NaN;
  }
  return { ips, dr, snipsValue, snipsInfl, ess: sw2 > 0 ? (sw * sw) / sw2 : 0, maxWeight };
}

export function offPolicy(rows: readonly OffPolicyRow[]): OffPolicyEstimates {
  const t = terms(rows);
  const sn = meanCi(t.snipsInfl);
  return {
    ips: meanCi(t.ips),
    snips: { value: t.snipsValue, ci95: [t.snipsValue - (sn.value - sn.ci95[0]), t.snipsValue + (sn.ci95[1] - sn.value)] },
    dr: meanCi(t.dr),
    ess: t.ess,
    rows: rows.length,
    maxWeight: t.maxWeight,
  };
}

/** a − b on the same rows (row i of both is the same logged decision), each estimator's interval from the per-row differences. */
export function offPolicyDifference(a: readonly OffPolicyRow[], b: readonly OffPolicyRow[]): { ips: Estimate; snips: Estimate; dr: Estimate } {
  if (a.length !== b.length) throw new Error("a difference needs the same rows for both policies");
  const ta = terms(a);
  const tb = terms(b);
  const diff = (x: Float64Array, y: Float64Array) => meanCi(x.map((v, i) => v - y[i]!));
  const sn = diff(ta.snipsInfl, tb.snipsInfl);
  const snValue = ta.snipsValue - tb.snipsValue;
  return { ips: diff(ta.ips, tb.ips), snips: { value: snValue, ci95: [snValue - (sn.value - sn.ci95[0]), snValue + (sn.ci95[1] - sn.value)] }, dr: diff(ta.dr, tb.dr) };
}
