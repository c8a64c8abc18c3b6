// Latency (issue #7 §3): open loop at fixed offered loads, from an event's scheduled publish to the
// receipt of its decision, against the live processor (in its own process, as configured). Only
// decision points (the events the engine decides at: product views, sends) get decisions, so only
// they are measured; the other events of the mix are sent on the same schedule and load the processor
// as they would.
//
// The feed runs in a child process of its own (bench/feed-child.ts), with the events of every phase
// generated and packed beforehand: in this process, whose heap holds the whole generated stream, the
// feed's own garbage collections stalled the sender and the receiver and counted as latency (issue #16).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runChild } from "./child-ipc.ts";
import type { BenchContext } from "./context.ts";
import type { FeedPhase, FromFeedChild, ToFeedChild } from "./feed-child.ts";
import { packFeed, type FeedResult } from "./feed.ts";

export const OFFERED_PER_SEC = [1000, 5000, 20000] as const;
/** The warm-up's rate: the processor's JIT and the stream's caches settle at a moderate load. */
const WARMUP_PER_SEC = 2000;

export interface LatencyResult {
  byOffered: Record<string, FeedResult>;
  warmupSeconds: number;
  /** The processor's garbage collections during the phases (warm-up included): each pause, ms. */
  gcPausesMs: number[];
  /** Each pause's kind (bench/gc-meter.ts). */
  gcPauseKinds: number[];
  /** JS heap bytes the processor allocated per event it handled over the phases. */
  bytesAllocatedPerEvent: number;
}

const CHILD = fileURLToPath(new URL("./feed-child.ts", import.meta.url));

export async function benchLatency(ctx: BenchContext): Promise<LatencyResult> {
  const live = await ctx.liveProcessor();
  const { server } = await ctx.nats();
  const dir = mkdtempSync(join(tmpdir(), "ps-bench-feed-"));
  try {
    // Warm-up (not recorded), then the phases, each continuing the same stream.
    const warmupSeconds = ctx.opts.quick ? 1 : 3;
    const phases: FeedPhase[] = [];
    const rates = [WARMUP_PER_SEC, ...OFFERED_PER_SEC];
    for (const [k, rate] of rates.entries()) {
      const seconds = k === 0 ? warmupSeconds : (ctx.sizes.latencySeconds[rate] ?? 5);
      const file = join(dir, `phase-${k}`);
      packFeed(ctx.events().take(rate * seconds), file);
      phases.push({ file, ratePerSec: rate });
    }
    const s0 = await live.stats();
    const results = await runFeedChild(ctx, server.url, phases);
    const s1 = await live.stats();
    const byOffered: Record<string, FeedResult> = {};
    for (const [k, rate] of OFFERED_PER_SEC.entries()) byOffered[String(rate)] = results[k + 1]!;
    const handled = Math.max(1, (s1.eventsIn ?? 0) - (s0.eventsIn ?? 0));
    return { byOffered, warmupSeconds, gcPausesMs: s1.gcPausesMs, gcPauseKinds: s1.gcPauseKinds, bytesAllocatedPerEvent: (s1.allocatedBytes - s0.allocatedBytes) / handled };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The feed child's results, phase by phase. */
export function runFeedChild(ctx: BenchContext, natsUrl: string, phases: FeedPhase[]): Promise<FeedResult[]> {
  const run: ToFeedChild = { type: "run", natsUrl, nats: ctx.cfg.nats, maxInFlight: ctx.cfg.simulator.maxInFlightPublishes, phases };
  return runChild<ToFeedChild, FromFeedChild, FeedResult[]>(CHILD, run, [], (m, out) => void (out[m.index] = m.result)).then((results) => {
    if (results.length !== phases.length) throw new Error(`latency feed child finished ${results.length} of ${phases.length} phases`);
    return results;
  });
}
