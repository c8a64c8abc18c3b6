// The bus's own ceiling (issue #7 §1): drain the preloaded EVENTS stream with a durable pull consumer
// that does no work, configured and batched exactly as the processor's (src/processor/processor.ts
// restoreAndPosition and run): AckPolicy.All, `consume({ max_messages: batchSize })`, one ack of the
// newest message every `flushEveryMessages`, the same max_ack_pending and ack wait.
import { AckPolicy, DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { BenchContext } from "./context.ts";
import { CpuMeter } from "./proc.ts";

export interface CeilingRun {
  eventsPerSec: number;
  /** Cores used during the drain by nats-server and by this (the no-work client's) process. */
  serverCores: number;
  clientCores: number;
}

let drains = 0;

/** One drain of the whole stream: events/s from the first pull to the last ack. */
export async function drainCeiling(ctx: BenchContext): Promise<CeilingRun> {
  const { nc, jsm, server } = await ctx.nats();
  const { lastSeq } = await ctx.preloaded();
  const p = ctx.cfg.processor;
  const stream = ctx.cfg.streams.events.name;
  const durable = `bench-ceiling-${++drains}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.All,
    // As the processor's: no filter, since EVENTS holds only events (see restoreAndPosition on why).
    ack_wait: nanos(p.ackWaitSec * 1000),
    max_ack_pending: Math.max(p.flushEveryMessages * 4, p.batchSize * 4, 10_000),
    max_deliver: -1,
  });
  try {
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const meter = new CpuMeter([server.pid, process.pid]);
    const t0 = performance.now();
    const msgs = await consumer.consume({ max_messages: p.batchSize });
    let since = 0;
    for await (const m of msgs) {
      if (++since >= p.flushEveryMessages || m.seq >= lastSeq) {
        since = 0;
        m.ack();
      }
      if (m.seq >= lastSeq) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const [serverCores, clientCores] = meter.shares();
    await msgs.close();
    const info = await jsm.consumers.info(stream, durable);
    if (info.delivered.stream_seq < lastSeq) throw new Error(`ceiling drain stopped at ${info.delivered.stream_seq} of ${lastSeq}`);
    return { eventsPerSec: lastSeq / seconds, serverCores: serverCores!, clientCores: clientCores! };
  } finally {
    await jsm.consumers.delete(stream, durable).catch(() => undefined);
  }
}
