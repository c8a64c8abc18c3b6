// The summary's arithmetic, apart from bench/run.ts (which runs the bench when imported) so it can be
// tested: the median of repeated drains, the GC pauses' figures and kinds, and the targets' verdicts.
import { constants } from "node:perf_hooks";
import { round } from "./stats.ts";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** p50, p99, max and count of GC pauses (ms), and their sum. */
export function pauseFigures(ms: readonly number[]): { p50: number; p99: number; max: number; count: number; totalMs: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const pct = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 2) : 0);
  return { p50: pct(0.5), p99: pct(0.99), max: sorted.length ? round(sorted[sorted.length - 1]!, 2) : 0, count: sorted.length, totalMs: round(sorted.reduce((a, b) => a + b, 0), 1) };
}

/** The pauses by kind (perf_hooks' NODE_PERFORMANCE_GC_* constants): a scavenge, a mark-compact, an incremental marking step, weak callbacks. */
export function pausesByKind(ms: readonly number[], kinds: readonly number[]): Record<string, ReturnType<typeof pauseFigures>> {
  // From the constants themselves (1, 4, 8, 16 in Node 20: V8's GCType bits), not written out: 2 is V8's
  // minor mark-compact, which Node gives no name of its own.
  const names: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
  };
  const groups = new Map<string, number[]>();
  ms.forEach((m, i) => {
    const k = names[kinds[i] ?? 0] ?? `kind${kinds[i]}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(m);
  });
  return Object.fromEntries([...groups].map(([k, v]) => [k, pauseFigures(v)]));
}

/** What the summary knows of the run whose figures it judges. */
export interface SummaryRun {
  /** A `--quick` run: its sizes are a smoke test's, and its figures are shown but not judged. */
  quick?: boolean;
  /** The results' top-level keys this run measured; a figure under any other came from an earlier run (merged, after `--only`). */
  measured?: ReadonlySet<string>;
}

/**
 * The issues' targets (2 cores; #7, and #16 and 24 for CPU, share, latency and decide()), printed beside
 * the figures; never asserted. `met` is "yes" or "NO"; "-" for a figure not run; "not judged (--quick)"
 * for a smoke run's; "(earlier run)" follows the verdict of a figure this run did not measure.
 */
export function targets(r: Record<string, unknown>, run: SummaryRun = {}): Record<string, unknown>[] {
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const lat = r.latencyMs as Record<string, { p99: number }> | undefined;
  const rss = r.rssMbByCustomers as Record<string, number> | undefined;
  const dec = r.decideMicrosByArms as Record<string, number> | undefined;
  const rows: [string, number | undefined, string, (x: number) => boolean][] = [
    ["pipelineShareOfCeiling", num(r.pipelineShareOfCeiling), "≥ 0.5 (issues #16, 24)", (x) => x >= 0.5],
    ["cpuMicrosPerEvent", num(r.cpuMicrosPerEvent), "≤ 14 µs (issues #16, 24)", (x) => x <= 14],
    ["pipelineEventsPerSec", num(r.pipelineEventsPerSec), "≥ 25,000", (x) => x >= 25_000],
    ["latencyMs.5000.p99", lat?.["5000"]?.p99, "≤ 10 ms in each of 3 full runs in a row (issues #16, 24)", (x) => x <= 10],
    ["rssMbByCustomers.1000000", rss?.["1000000"], "≤ 300 MB", (x) => x <= 300],
    ["rssMbByCustomers.10000000", rss?.["10000000"], "≤ 3 GB", (x) => x <= 3072],
    ["checkpointPauseMsByCustomers.1000000", (r.checkpointPauseMsByCustomers as Record<string, number> | undefined)?.["1000000"], "≤ 5 ms", (x) => x <= 5],
    ["restartSecondsByCustomers.1000000", (r.restartSecondsByCustomers as Record<string, number> | undefined)?.["1000000"], "≤ 10 s (kill -9 to deciding)", (x) => x <= 10],
    ["decideMicrosByArms.50", dec?.["50"], "≤ 10 µs (issues #16, 24)", (x) => x <= 10],
    ["decideApiMs.1000.p99", (r.decideApiMs as Record<string, { p99: number }> | undefined)?.["1000"]?.p99, "≤ 10 ms with 5,000 events/s of background (issue 22)", (x) => x <= 10],
  ];
  return rows.map(([figure, value, target, ok]) => {
    const earlier = run.measured !== undefined && !run.measured.has(figure.split(".")[0]!);
    const verdict = value === undefined ? "-" : run.quick ? "not judged (--quick)" : ok(value) ? "yes" : "NO";
    return { figure, value: value ?? "not run", target, met: value !== undefined && earlier ? `${verdict} (earlier run)` : verdict };
  });
}
