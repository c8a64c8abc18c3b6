// Latency (issue #7 §3): open loop at fixed offered loads, from an event's scheduled publish to the
// receipt of its decision, against the live processor (in its own process, as configured). Only
// decision points (the events the engine decides at: product views, sends) get decisions, so only
// they are measured; the other events of the mix are sent on the same schedule and load the processor
// as they would.
import type { BenchContext } from "./context.ts";
import { DecisionWatch, runFeed, type FeedResult } from "./feed.ts";
import { PipelinedPublisher } from "../src/io/nats/index.ts";

export const OFFERED_PER_SEC = [1000, 5000, 20000] as const;

export interface LatencyResult {
  byOffered: Record<string, FeedResult>;
  warmupSeconds: number;
}

export async function benchLatency(ctx: BenchContext): Promise<LatencyResult> {
  await ctx.liveProcessor();
  // Sender and receiver on their own connections, so receipts never queue behind the sender's writes.
  const sendConn = await ctx.connect("bench-latency-send");
  const recvConn = await ctx.connect("bench-latency-recv");
  const pub = new PipelinedPublisher(sendConn, ctx.cfg.simulator.maxInFlightPublishes);
  const watch = new DecisionWatch(recvConn, ctx.cfg.nats.subjectPrefix);
  try {
    // Warm-up (not recorded): the processor's JIT and the stream's caches settle at a moderate load.
    const warmupSeconds = ctx.opts.quick ? 1 : 3;
    await runFeed(pub, watch, ctx.events().take(2000 * warmupSeconds), 2000);
    const byOffered: Record<string, FeedResult> = {};
    for (const rate of OFFERED_PER_SEC) {
      const seconds = ctx.sizes.latencySeconds[rate] ?? 5;
      byOffered[String(rate)] = await runFeed(pub, watch, ctx.events().take(rate * seconds), rate);
    }
    return { byOffered, warmupSeconds };
  } finally {
    watch.close();
  }
}
