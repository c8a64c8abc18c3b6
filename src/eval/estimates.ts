// Intervals for the replay report: a policy's value over seeds, uplift against the control, and
// inverse-propensity estimates for fixed policies.
import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { newcombeDiff } from "../bandit/index.ts";
import type { LoggedRow, ReplayRun, Tally } from "./replay.ts";

const Z95 = 1.959963984540054;
type Interval = [number, number];

export const meanOf = (t: Tally): number => (t.n ? t.sum / t.n : 0);
/** Squared standard error of a tally's mean (sample variance / n); 0 below two observations. */
export function se2Of(t: Tally): number {
  if (t.n < 2) return 0;
  const m = t.sum / t.n;
  return Math.max(0, (t.sumSq - t.n * m * m) / (t.n - 1)) / t.n;
}

export interface ValueSummary {
  /** Mean over seeds of each run's value (mean outcome of kept policy decisions). */
  value: number;
  /**
   * 95% interval for the policy's value on the population the log samples: the customers' sampling
   * (each run's standard error, which more seeds do not shrink because every run walks the same rows)
   * plus the policy's own randomness (between-seed variance / seeds), normal approximation.
   */
  ci95: Interval;
  /** 95% t-interval of the mean over seeds alone: how much the figure moves with the policy's random draws. */
  seedCi95: Interval;
  /** Kept policy decisions, mean over seeds (rounded). */
  matched: number;
  perSeed: number[];
}

export function summariseValue(runs: readonly ReplayRun[]): ValueSummary {
  const s = runs.length;
  const vs = runs.map((r) => meanOf(r.value));
  const v = vs.reduce((a, b) => a + b, 0) / s;
  const between = s > 1 ? vs.reduce((a, x) => a + (x - v) ** 2, 0) / (s - 1) : 0;
  const within = runs.reduce((a, r) => a + se2Of(r.value), 0) / s;
  const half = Z95 * Math.sqrt(within + between / s);
  const seedHalf = s > 1 ? tQuantile(0.975, s - 1) * Math.sqrt(between / s) : 0;
  return {
    value: v,
    ci95: [v - half, v + half],
    seedCi95: [v - seedHalf, v + seedHalf],
    matched: Math.round(runs.reduce((a, r) => a + r.value.n, 0) / s),
    perSeed: vs,
  };
}

/** Difference of two means with its 95% interval: Newcombe's hybrid score for 0/1 outcomes, normal (Welch) otherwise. */
export function diffInterval(a: Tally, b: Tally, binary: boolean): { estimate: number; ci95: Interval } {
  if (binary) return newcombeDiff(a.sum, a.n, b.sum, b.n);
  const d = meanOf(a) - meanOf(b);
  const half = Z95 * Math.sqrt(se2Of(a) + se2Of(b));
  return { estimate: d, ci95: [d - half, d + half] };
}

/** The engine's verdict against another policy: its value is higher, lower, or the interval straddles 0. */
export type Verdict = "better" | "worse" | "cannot tell";

export interface PairedDifference {
  /** Mean over seeds of (engine's value − the policy's value), seed by seed. */
  mean: number;
  /** 95% t-interval of that mean over the seeds. */
  ci95: Interval;
  verdict: Verdict;
}

/**
 * The engine against another policy on the same seeds (each seed the same rows in the same order, so
 * the pair shares the log's luck): the mean of the per-seed differences with a t-interval. What it
 * covers is the policies' own randomness and the order of the rows, on this file's customers; not the
 * sampling of customers from the population (the same for both, so it cancels only in part). A policy
 * with one run (no random draws, the order does not change its value) is the same figure at every seed.
 */
export function pairedDifference(engine: readonly number[], other: readonly number[]): PairedDifference {
  const s = engine.length;
  const d = engine.map((v, i) => v - (other.length === 1 ? other[0]! : other[i]!));
  const mean = d.reduce((a, b) => a + b, 0) / s;
  const sd2 = s > 1 ? d.reduce((a, x) => a + (x - mean) ** 2, 0) / (s - 1) : 0;
  const half = s > 1 ? tQuantile(0.975, s - 1) * Math.sqrt(sd2 / s) : Infinity;
  const ci95: Interval = [mean - half, mean + half];
  return { mean, ci95, verdict: ci95[0] > 0 ? "better" : ci95[1] < 0 ? "worse" : "cannot tell" };
}

export interface IpsEstimate {
  value: number;
  ci95: Interval;
}

/**
 * Inverse propensity scoring on a log with known logging probability: w = π(logged arm | x) / p_log.
 * IPS = mean of w·r over all rows (unbiased); SNIPS = Σw·r / Σw (self-normalised: a little bias, less
 * variance). Intervals: normal for IPS, delta method for SNIPS.
 */
export function ipsEstimates(rows: readonly LoggedRow[], targetProb: (row: LoggedRow) => number, loggingProb: number): { ips: IpsEstimate; snips: IpsEstimate } {
  const n = rows.length;
  let sw = 0;
  let swr = 0;
  let swr2 = 0;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const wi = targetProb(r) / loggingProb;
    w[i] = wi;
    sw += wi;
    swr += wi * r.outcome;
    swr2 += (wi * r.outcome) ** 2;
  }
  const ips = n ? swr / n : 0;
  const ipsVar = n > 1 ? Math.max(0, (swr2 - n * ips * ips) / (n - 1)) / n : 0;
  const snips = sw > 0 ? swr / sw : 0;
  let dev = 0;
  for (let i = 0; i < n; i++) dev += (w[i]! * (rows[i]!.outcome - snips)) ** 2;
  const wbar = sw / Math.max(1, n);
  const snipsVar = n > 0 && wbar > 0 ? dev / (n * n * wbar * wbar) : 0;
  const ih = Z95 * Math.sqrt(ipsVar);
  const sh = Z95 * Math.sqrt(snipsVar);
  return { ips: { value: ips, ci95: [ips - ih, ips + ih] }, snips: { value: snips, ci95: [snips - sh, snips + sh] } };
}
