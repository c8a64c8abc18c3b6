// The pipeline (issue #7 §2): the real processor, in its own process as `npm run processor` runs it
// (bench/part-child.ts → startSystem), draining the preloaded EVENTS stream with everything on:
// decode, features, guards, policy, decisions published with their dedup ids, attribution,
// checkpoints as configured. Timed from the moment the processor reports itself consuming to the
// moment its durable consumer's ack floor reaches the stream's last event.
import { Kvm } from "@nats-io/kv";
import { provision } from "../src/io/nats/index.ts";
import { spawnPart, type PartChild } from "./children.ts";
import type { BenchContext } from "./context.ts";
import { CpuMeter } from "./proc.ts";
import { sleep } from "./stats.ts";

export interface PipelineRun {
  eventsPerSec: number;
  decisionsPerSec: number;
  decisions: number;
  seconds: number;
  /** Cores used during the drain by the processor and by nats-server. */
  processorCores: number;
  serverCores: number;
  /** Processor CPU time (all its threads) per event: steadier than events/s on a shared machine. */
  cpuMicrosPerEvent: number;
  /** The processor's RSS at the end of the drain. */
  rssMb: number;
  /** JS heap bytes the processor allocated per event over the drain (bench/gc-meter.ts). */
  bytesAllocatedPerEvent: number;
}

/** Waits until the processor's durable consumer has acknowledged everything up to `lastSeq`. */
export async function waitDrained(ctx: BenchContext, lastSeq: number, timeoutMs = 600_000): Promise<number> {
  const { jsm } = await ctx.nats();
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const ci = await jsm.consumers.info(ctx.cfg.streams.events.name, ctx.cfg.processor.durable);
      if (ci.ack_floor.stream_seq >= lastSeq) return performance.timeOrigin + performance.now();
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
    }
    if (Date.now() > end) throw new Error(`the processor did not drain to ${lastSeq} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Forgets everything a processor run left behind (its consumer, checkpoints, decisions and their
 * dedup window), keeping EVENTS, so the next run drains the same stream from the start.
 */
export async function resetProcessorState(ctx: BenchContext): Promise<void> {
  const { nc, jsm } = await ctx.nats();
  const c = ctx.cfg;
  await jsm.consumers.delete(c.streams.events.name, c.processor.durable).catch(() => undefined);
  for (const s of [c.streams.decisions.name, c.streams.deadletter.name]) await jsm.streams.delete(s).catch(() => undefined);
  await new Kvm(nc)
    .open(c.kv.stateBucket)
    .then((kv) => kv.destroy())
    .catch(() => undefined);
  await provision(nc, c, ctx.log);
}

export function startProcessor(ctx: BenchContext, natsUrl: string, overlay: object = {}): Promise<PartChild> {
  return spawnPart("processor", { natsUrl, overlay: ctx.overlay(overlay), nodeFlags: ctx.nodeFlags() });
}

/** One drain of the preloaded stream by a fresh processor. */
export async function drainPipeline(ctx: BenchContext, overlay: object = {}): Promise<PipelineRun> {
  const { server } = await ctx.nats();
  const { lastSeq } = await ctx.preloaded();
  await resetProcessorState(ctx);
  const p = await startProcessor(ctx, server.url, overlay);
  try {
    const meter = new CpuMeter([p.pid, server.pid]);
    const s0 = await p.stats();
    const doneAt = await waitDrained(ctx, lastSeq);
    const [processorCores, serverCores] = meter.shares();
    const s = await p.stats();
    // (What the processor had handled when s0 was taken is left out on both sides.)
    const handled = Math.max(1, (s.eventsIn ?? lastSeq) - (s0.eventsIn ?? 0));
    const seconds = (doneAt - p.readyAtMs) / 1000;
    const decisions = s.decisions ?? 0;
    return {
      eventsPerSec: lastSeq / seconds,
      decisionsPerSec: decisions / seconds,
      decisions,
      seconds,
      processorCores: processorCores!,
      serverCores: serverCores!,
      cpuMicrosPerEvent: (processorCores! * seconds * 1e6) / lastSeq,
      rssMb: s.rssBytes / 2 ** 20,
      bytesAllocatedPerEvent: (s.allocatedBytes - s0.allocatedBytes) / handled,
    };
  } finally {
    await p.stop().catch(() => p.kill());
  }
}
