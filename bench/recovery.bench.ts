// Recovery (issue #16): `kill -9` of a processor holding N customers to its first decision after the
// restart, with a real nats-server and the processor as `npm run processor` runs it (a child process,
// config/default.json with the memory bound raised so every customer stays cached and checkpoints every
// 5 s). The N customers come from N visit events published to EVENTS (one customer each: a visit is not
// a decision point, so the fill costs publishing and consuming, not deciding). Once the processor has
// drained them and a checkpoint covers the last one, it is killed; a product view (a decision point) is
// published; the clock starts when the new processor is spawned and stops when its decision arrives
// on decisions.web.
import { Kvm } from "@nats-io/kv";
import { loadConfig } from "../src/config/index.ts";
import { encodeEvent, Subjects, type ShopEvent } from "../src/events/index.ts";
import { connectNats, PipelinedPublisher, provision, startNatsServer } from "../src/io/nats/index.ts";
import type { ChainHead } from "../src/state/index.ts";
import { spawnPart } from "./children.ts";
import { hold } from "./cleanup.ts";
import type { BenchContext } from "./context.ts";

export interface RecoveryPoint {
  customers: number;
  /** Publishing the visits and the processor draining them. */
  fillSeconds: number;
  /** The checkpoint chain in KV when the processor was killed. */
  chainParts: number;
  chainMb: number;
  /** Spawn of the new processor to its report of running (restore done, consumer positioned). */
  readySeconds: number;
  /** Spawn of the new processor to the decision for the event published while it was down. */
  restartToDecisionSeconds: number;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`recovery bench: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchRecovery(ctx: BenchContext, customers: number): Promise<RecoveryPoint> {
  const overlay = ctx.overlay({ features: { maxMemoryMb: 1_000_000 }, processor: { checkpointEverySec: 5 } });
  const cfg = loadConfig({ env: {}, overrides: overlay });
  const server = await startNatsServer({ binary: cfg.nats.serverBinary, port: -1 });
  const releaseServer = hold(() => server.stop());
  const nc = await connectNats(cfg.nats, server.url, "bench-recovery", ctx.log);
  let processor: Awaited<ReturnType<typeof spawnPart>> | undefined;
  try {
    await provision(nc, cfg, ctx.log);
    const subjects = new Subjects(cfg.nats.subjectPrefix);
    const T0 = Date.parse(cfg.simulator.startTime);
    const pub = new PipelinedPublisher(nc, cfg.simulator.maxInFlightPublishes);
    const send = async (e: ShopEvent) => {
      const r = pub.publish(subjects.forEvent(e, cfg.partitions), encodeEvent(e), e.id);
      if (pub.pending >= pub.maxInFlight) await r;
    };
    const t0 = performance.now();
    processor = await spawnPart("processor", { natsUrl: server.url, overlay });
    await send({ type: "inventory", id: "r-inv", ts: T0, productId: "sku-001", category: cfg.simulator.categories[0]!, stock: 1_000_000, priceCents: 2_500, costCents: 1_500 });
    for (let c = 0; c < customers; c++) await send({ type: "visit", id: `r-${c}`, ts: T0 + 1 + c * 10, customerId: `rc${c}`, channel: "web", sessionId: `rc${c}-1` });
    if (!(await pub.flush())) throw new Error(`recovery bench: publishing failed: ${pub.lastError?.message}`);
    const js = await import("@nats-io/jetstream");
    const jsm = await js.jetstreamManager(nc);
    await until("the processor draining the visits", async () => {
      const ci = await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable).catch(() => undefined);
      return ci !== undefined && ci.num_pending === 0 && ci.num_ack_pending === 0;
    }, 900_000);
    const fillSeconds = (performance.now() - t0) / 1000;
    const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
    // A processor checkpoints while events flow: one more visit a second (the same customer) until a
    // checkpoint covers everything published.
    let head: ChainHead | undefined;
    let nudge = 0;
    await until("a checkpoint covering every visit", async () => {
      await send({ type: "visit", id: `r-nudge-${nudge++}`, ts: T0 + 1 + customers * 10 + nudge, customerId: "rc0", channel: "web", sessionId: "rc0-1" });
      await pub.flush();
      const seq = (await jsm.streams.info(cfg.streams.events.name)).state.last_seq;
      await new Promise((r) => setTimeout(r, 1_000));
      const e = await kv.get(`${cfg.processor.durable}.head`);
      head = e && e.operation === "PUT" ? e.json<ChainHead>() : undefined;
      return head !== undefined && head.streamSeq >= seq - 1;
    }, 120_000);
    processor.kill();
    processor = undefined;
    // Published while no processor runs: the restarted one decides it.
    const viewId = "r-view-after-kill";
    const decided = new Promise<number>((resolve) => {
      const sub = nc.subscribe(`${subjects.decisionsAll}`, {
        callback: (_err, m) => {
          if ((m.json() as { eventId?: string }).eventId !== viewId) return;
          sub.unsubscribe();
          resolve(performance.now());
        },
      });
    });
    await nc.flush();
    await send({ type: "view", id: viewId, ts: T0 + 1 + customers * 10 + 1_000 + nudge, customerId: "rc0", productId: "sku-001", category: cfg.simulator.categories[0]!, priceCents: 2_500 });
    if (!(await pub.flush())) throw new Error(`recovery bench: publishing failed: ${pub.lastError?.message}`);
    const r0 = performance.now();
    processor = await spawnPart("processor", { natsUrl: server.url, overlay });
    const readySeconds = (performance.now() - r0) / 1000;
    const at = await Promise.race([decided, new Promise<number>((_, reject) => setTimeout(() => reject(new Error("recovery bench: no decision within 120 s of the restart")), 120_000))]);
    const parts = head!.deltas.length + (head!.base ? 1 : 0);
    const bytes = (head!.base?.bytes ?? 0) + head!.deltas.reduce((s, d) => s + d.bytes, 0);
    return { customers, fillSeconds, chainParts: parts, chainMb: bytes / 2 ** 20, readySeconds, restartToDecisionSeconds: (at - r0) / 1000 };
  } finally {
    await processor?.stop().catch(() => processor?.kill());
    await nc.drain().catch(() => undefined);
    await server.stop();
    releaseServer();
  }
}
