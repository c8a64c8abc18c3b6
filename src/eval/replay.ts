// The replay method (Li, Chu, Langford, Wang, WSDM 2011) for logs whose arm was assigned uniformly at
// random: walk the log in order; when the policy picks the logged arm, the row counts and the policy
// learns from its outcome; otherwise the row is skipped. Unbiased for the policy's value because every
// arm had the same logging probability, so the kept rows are a random sample of what the policy would
// have met.
//
// A policy with a random holdout (the engine's control share) pays that share on purpose to measure
// uplift. Rows that went to the holdout draw are counted apart: they never enter `value`, and when the
// logged arm is the control they are the unconfounded control sample of the uplift estimate (issue #10).
import type { Rng } from "../random/index.ts";

export type Metric = "visit" | "conversion" | "spend";
export const METRICS: readonly Metric[] = ["visit", "conversion", "spend"];

/** One logged decision: what the policy may see, the arm that was assigned, the outcome (metric units). */
export interface LoggedRow {
  ctx: Readonly<Record<string, number | string>>;
  arm: string;
  outcome: number;
}

export interface ReplayChoice {
  armId: string;
  /** true when the random holdout draw sent this row to the control (not a policy choice). */
  holdout: boolean;
}

/** Anything replayable: the engine's policy, or a baseline. */
export interface ReplayPolicy {
  readonly name: string;
  choose(ctx: Readonly<Record<string, number | string>>, nowMs: number, rng: Rng): ReplayChoice;
  /** The outcome of a kept row, in the metric's units (> 0: a conversion). */
  learn(ctx: Readonly<Record<string, number | string>>, armId: string, outcome: number, nowMs: number, rng: Rng): void;
}

/** Sums of a sample, enough for its mean and variance. */
export interface Tally {
  n: number;
  sum: number;
  sumSq: number;
}
export const emptyTally = (): Tally => ({ n: 0, sum: 0, sumSq: 0 });
export function addTo(t: Tally, x: number): void {
  t.n++;
  t.sum += x;
  t.sumSq += x * x;
}

export interface ReplayRun {
  rows: number;
  /** Outcomes of the kept policy decisions (holdout draws excluded). */
  value: Tally;
  /** The same, per arm the policy picked. */
  byArm: Record<string, Tally>;
  /** Rows where the holdout draw fired (whatever the logged arm). */
  holdoutDraws: number;
  /** Holdout draws whose logged arm was the control: the uplift's control sample. */
  holdout: Tally;
  /** Cumulative value (mean outcome of kept policy decisions) after each checkpoint's row count; NaN before the first kept row. */
  curve: number[];
  /** Kept policy decisions at each checkpoint. */
  kept: number[];
}

export interface ReplayOptions {
  /** The logged arm meaning no promotion. */
  control: string;
  /** Event time of row i is startMs + (i + 1) · msPerRow: the log has no timestamps of its own. */
  startMs: number;
  msPerRow: number;
  /** The generator for row i (one per row, like the processor's one per event). */
  rngFor: (row: number) => Rng;
  /** Row counts (ascending) after which the cumulative value is recorded. */
  checkpoints?: readonly number[];
}

export function replay(rows: readonly LoggedRow[], policy: ReplayPolicy, o: ReplayOptions): ReplayRun {
  const run: ReplayRun = { rows: rows.length, value: emptyTally(), byArm: {}, holdoutDraws: 0, holdout: emptyTally(), curve: [], kept: [] };
  const cps = o.checkpoints ?? [];
  let next = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const nowMs = o.startMs + (i + 1) * o.msPerRow;
    const rng = o.rngFor(i);
    const c = policy.choose(row.ctx, nowMs, rng);
    if (c.holdout) {
      run.holdoutDraws++;
      if (row.arm === o.control) {
        addTo(run.holdout, row.outcome);
        // The engine learns from holdout outcomes too (they are real control observations).
        policy.learn(row.ctx, row.arm, row.outcome, nowMs, rng);
      }
    } else if (c.armId === row.arm) {
      addTo(run.value, row.outcome);
      addTo((run.byArm[row.arm] ??= emptyTally()), row.outcome);
      policy.learn(row.ctx, row.arm, row.outcome, nowMs, rng);
    }
    while (next < cps.length && cps[next]! <= i + 1) {
      run.curve.push(run.value.n ? run.value.sum / run.value.n : NaN);
      run.kept.push(run.value.n);
      next++;
    }
  }
  while (next++ < cps.length) {
    run.curve.push(run.value.n ? run.value.sum / run.value.n : NaN);
    run.kept.push(run.value.n);
  }
  return run;
}

/**
 * The rows in a random order (Fisher–Yates from `rng`). The replay method is unbiased for any order of
 * i.i.d. rows, so each seed may walk its own order: the spread over seeds then includes what the order
 * does to a learner, which one fixed order hides (issue #21).
 */
export function shuffled<T>(rows: readonly T[], rng: Rng): T[] {
  const out = rows.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** `points` row counts spread evenly over `rows`, ending at `rows`. */
export function checkpointsFor(rows: number, points: number): number[] {
  const n = Math.max(1, Math.min(points, rows));
  const out: number[] = [];
  for (let k = 1; k <= n; k++) out.push(Math.round((k * rows) / n));
  return out;
}
