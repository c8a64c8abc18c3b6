// Scale-out (issue #8): the same preloaded stream drained by 1, 2 and 3 partitioned processor
// processes on a 3-node cluster with R3 streams, all on this machine. Each count gets a fresh cluster,
// so no run sees another's internal events (stock copies, grants, shared counts).
import { jetstreamManager } from "@nats-io/jetstream";
import { loadConfig } from "../src/config/index.ts";
import { connectNats, PipelinedPublisher, provision, retryTransient, startNatsCluster } from "../src/io/nats/index.ts";
import { spawnPart, type PartChild } from "./children.ts";
import { hold } from "./cleanup.ts";
import { deepMerge, type BenchContext } from "./context.ts";

export interface ScaleRun {
  processes: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  decisions: number;
}

const now = () => performance.timeOrigin + performance.now();

export async function benchScaleOut(ctx: BenchContext, counts: readonly number[]): Promise<ScaleRun[]> {
  const events = ctx.events().take(ctx.opts.quick ? 8_000 : 40_000);
  const out: ScaleRun[] = [];
  for (const k of counts) {
    const cluster = await startNatsCluster(3);
    const releaseCluster = hold(() => cluster.stop());
    const children: PartChild[] = [];
    try {
      const overlay = deepMerge(ctx.overlay(), {
        scale: { enabled: true },
        streams: { events: { replicas: 3 }, decisions: { replicas: 3 }, deadletter: { replicas: 3 } },
      }) as object;
      const cfg = loadConfig({ env: {}, overrides: overlay });
      const nc = await connectNats(cfg.nats, cluster.url, "bench-scale", ctx.log);
      await retryTransient("provisioning", () => provision(nc, cfg, ctx.log), ctx.log);
      const pub = new PipelinedPublisher(nc, 2000);
      for (const e of events) {
        const r = pub.publish(e.subject, e.data, e.id);
        if (pub.pending >= pub.maxInFlight) await r;
      }
      if (!(await pub.flush())) throw new Error(`preloading the cluster failed: ${pub.lastError?.message}`);
      // All processes start together and take their shares of the partitions as they come up, as a
      // real scale-out does. Throughput is timed by the server's own clock on the DECISIONS stream:
      // from the first decision stored to the last (decision points are spread evenly through the
      // stream), so process start-up and this loop's polling do not count.
      const jsm = await jetstreamManager(nc);
      const names = Array.from({ length: cfg.partitions }, (_, p) => `${cfg.processor.durable}-p${p}`);
      const spawned = Promise.all(Array.from({ length: k }, (_, i) => spawnPart("processor", { natsUrl: cluster.url, overlay: deepMerge(overlay, { scale: { instanceId: `bench-${i}` } }), nodeFlags: ctx.nodeFlags() })));
      const started = now();
      for (;;) {
        let drained = true;
        for (const name of names) {
          const ci = await jsm.consumers.info(cfg.streams.events.name, name).catch(() => undefined);
          if (!ci || ci.num_pending > 0 || ci.num_ack_pending > 0 || ci.delivered.stream_seq === 0) drained = false;
        }
        if (drained) break;
        if (now() - started > 600_000) throw new Error(`${k} processors did not drain ${events.length} events in 10 minutes`);
        await new Promise((r) => setTimeout(r, 50));
      }
      children.push(...(await spawned));
      const ds = await jsm.streams.info(cfg.streams.decisions.name);
      const first = await jsm.streams.getMessage(cfg.streams.decisions.name, { seq: ds.state.first_seq });
      const last = await jsm.streams.getMessage(cfg.streams.decisions.name, { seq: ds.state.last_seq });
      const seconds = (last!.time.getTime() - first!.time.getTime()) / 1000;
      let decisions = 0;
      for (const c of children) decisions += (await c.stop()).decisions ?? 0;
      children.length = 0;
      out.push({ processes: k, events: events.length, seconds, eventsPerSec: events.length / seconds, decisions: (await jsm.streams.info(cfg.streams.decisions.name)).state.messages || decisions });
      await nc.close();
    } finally {
      for (const c of children) c.kill();
      await cluster.stop();
      releaseCluster();
    }
  }
  return out;
}
