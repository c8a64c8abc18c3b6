// Issue #7 §1 and §2 in one section: the loader's acked publish rate, then the bus ceiling and the
// pipeline drained over the same preloaded stream, interleaved (ceiling, pipeline, ceiling, …) so a
// noisy moment on the shared machine lands on both and their ratio stays fair.
import { drainCeiling, type CeilingRun } from "./bus.bench.ts";
import type { BenchContext } from "./context.ts";
import { drainPipeline, type PipelineRun } from "./pipeline.bench.ts";
import { spread, type Spread } from "./stats.ts";

export interface ThroughputResult {
  events: number;
  decisionPointShare: number;
  meanEventBytes: number;
  publishEventsPerSec: number;
  busCeiling: Spread;
  pipeline: Spread;
  decisions: Spread;
  pipelineRuns: PipelineRun[];
  ceilingRuns: CeilingRun[];
  /**
   * Full mode only, a diagnostic: one more drain with checkpoints far apart (every 10⁸ events or
   * 300 s), to show what the configured checkpoints cost. Not a figure of the issue.
   */
  noCheckpoint?: PipelineRun;
}

export async function benchThroughput(ctx: BenchContext): Promise<ThroughputResult> {
  const pre = await ctx.preloaded();
  const ceiling: CeilingRun[] = [];
  const runs: PipelineRun[] = [];
  // First, so the configured runs come last and the live sections resume from their state.
  const noCheckpoint = ctx.opts.quick ? undefined : await drainPipeline(ctx, { processor: { checkpointEveryEvents: 100_000_000, checkpointEverySec: 300 } });
  for (let r = 0; r < ctx.sizes.drainRepeats; r++) {
    ceiling.push(await drainCeiling(ctx));
    runs.push(await drainPipeline(ctx));
  }
  const mix = ctx.events().mix();
  return {
    events: pre.events.length,
    decisionPointShare: mix.decisionPointShare,
    meanEventBytes: mix.meanBytes,
    publishEventsPerSec: pre.publishEventsPerSec,
    busCeiling: spread(ceiling.map((c) => c.eventsPerSec)),
    ceilingRuns: ceiling,
    pipeline: spread(runs.map((r) => r.eventsPerSec)),
    decisions: spread(runs.map((r) => r.decisionsPerSec)),
    pipelineRuns: runs,
    ...(noCheckpoint ? { noCheckpoint } : {}),
  };
}
