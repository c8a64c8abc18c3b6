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
import { hold } from "./cleanup.ts";
import type { BenchContext } from "./context.ts";
import type { FeedPhase, FromFeedChild, ToFeedChild } from "./feed-child.ts";
import { packFeed, type FeedResult } from "./feed.ts";
import { CpuMeter } from "./proc.ts";

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
  /** Per offered rate: each process's CPU and its wait for a CPU over that phase (`PhaseCpu`). */
  cpuByOffered: Record<string, PhaseCpu>;
}

/** A process's CPU over a phase: cores used, and cores' worth of its threads' time waiting for one (bench/proc.ts). */
export interface ProcessCpu {
  cores: number;
  waiting: number;
}

/** Who used and who waited for the 2 cores during a phase: what bounds its latency beyond the work itself. */
export interface PhaseCpu {
  processor: ProcessCpu;
  natsServer: ProcessCpu;
  feed: ProcessCpu;
}

const CHILD = fileURLToPath(new URL("./feed-child.ts", import.meta.url));

export async function benchLatency(ctx: BenchContext): Promise<LatencyResult> {
  const live = await ctx.liveProcessor();
  const { server } = await ctx.nats();
  const dir = mkdtempSync(join(tmpdir(), "ps-bench-feed-"));
  const releaseDir = hold(() => rmSync(dir, { recursive: true, force: true }));
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
    // A phase runs from the previous phase's result to its own (the feed child goes straight on).
    const cpu: PhaseCpu[] = [];
    let meter: CpuMeter | undefined;
    let pids: number[] = [];
    const results = await runFeedChild(ctx, server.url, phases, {
      started: (feedPid) => {
        pids = [live.pid, server.pid, feedPid];
      },
      phaseEnded: () => {
        if (meter) {
          const [cores, waiting] = [meter.shares(), meter.waits()];
          const of = (i: number): ProcessCpu => ({ cores: round2(cores[i]!), waiting: round2(waiting[i]!) });
          cpu.push({ processor: of(0), natsServer: of(1), feed: of(2) });
        }
        meter = new CpuMeter(pids);
      },
    });
    const s1 = await live.stats();
    const byOffered: Record<string, FeedResult> = {};
    const cpuByOffered: Record<string, PhaseCpu> = {};
    for (const [k, rate] of OFFERED_PER_SEC.entries()) {
      byOffered[String(rate)] = results[k + 1]!;
      if (cpu[k]) cpuByOffered[String(rate)] = cpu[k]!;
    }
    const handled = Math.max(1, (s1.eventsIn ?? 0) - (s0.eventsIn ?? 0));
    return { byOffered, warmupSeconds, gcPausesMs: s1.gcPausesMs, gcPauseKinds: s1.gcPauseKinds, bytesAllocatedPerEvent: (s1.allocatedBytes - s0.allocatedBytes) / handled, cpuByOffered };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The feed child's results, phase by phase; `on` hears of the child's start and of each phase's end. */
export function runFeedChild(ctx: BenchContext, natsUrl: string, phases: FeedPhase[], on: { started?: (pid: number) => void; phaseEnded?: (index: number) => void } = {}): Promise<FeedResult[]> {
  const run: ToFeedChild = { type: "run", natsUrl, nats: ctx.cfg.nats, maxInFlight: ctx.cfg.simulator.maxInFlightPublishes, phases };
  const gather = (m: FromFeedChild, out: FeedResult[]) => {
    out[m.index] = m.result;
    on.phaseEnded?.(m.index);
  };
  return runChild<ToFeedChild, FromFeedChild, FeedResult[]>(CHILD, run, [], gather, on.started).then((results) => {
    if (results.length !== phases.length) throw new Error(`latency feed child finished ${results.length} of ${phases.length} phases`);
    return results;
  });
}
