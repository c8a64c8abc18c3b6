// The processor's durable consumer deleted while it runs (an operator's `nats consumer rm`): without it
// nothing is delivered again, and the processor used to sit there, unhealthy, until restarted. It now
// makes the consumer again at the first event it has not handled and goes on: every decision point
// decided once. A consumer made meanwhile by someone else (another processor with the same durable
// name) is left alone: the processor stops consuming and /health says so, rather than take it back. A
// partition's processor goes by its lease instead, and makes its consumer again while it holds it.
import { afterEach, describe, expect, it } from "vitest";
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { decisionsByEvent, visitMaker } from "../support/shoppers.ts";
import { copyId, type ShopEvent } from "../../src/events/index.ts";
import { publishEvents, readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
let server: NatsServerHandle | undefined;
let sys: Running | undefined;
let nc: NatsConnection | undefined;

afterEach(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
  nc = sys = server = undefined;
});

const shoppers = visitMaker();
const views = (count: number) => shoppers.visits(count, T0);

/**
 * Deletes the processor's consumer as an operator would. nats-server 2.9.10 can refuse a delete while the
 * consumer's store is being written ("unlinkat …/obs/processor: directory not empty"): asked again, as an
 * operator would.
 */
async function deleteConsumer(jsm: JetStreamManager, durable: string): Promise<void> {
  await waitFor("the consumer deleted", async () => {
    try {
      return await jsm.consumers.delete("EVENTS", durable);
    } catch (err) {
      if (/not found/i.test((err as Error).message)) return true;
      throw err;
    }
  }, 10_000, 100);
}

async function start(logs: string[]) {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { log: { level: "info" } as never });
  sys = await startParts("processor", cfg, logs);
  nc = await connect({ servers: server.url });
  const first = views(20);
  await publishEvents(nc, first);
  await waitFor("the first views decided", async () => (await decisionsByEvent(nc!)).size >= first.length, 30_000, 200);
  return { cfg, jsm: await jetstreamManager(nc) };
}

describe("the processor's consumer deleted while it runs", { timeout: 120_000 }, () => {
  it("is made again at the first event not handled: every decision point decided once", async () => {
    const logs: string[] = [];
    const { cfg, jsm } = await start(logs);
    await deleteConsumer(jsm, cfg.processor.durable);
    const later = views(30);
    await publishEvents(nc!, later);
    await waitFor("the views after the deletion decided", async () => (await decisionsByEvent(nc!)).size >= 50, 60_000, 200);
    const by = await decisionsByEvent(nc!);
    expect([...by.values()].every((ds) => ds.length === 1)).toBe(true);
    expect(later.every((e) => by.has(e.id))).toBe(true);
    expect(logs.some((l) => l.includes('"reason":"consumer-missing"'))).toBe(true);
    await waitFor("healthy again", () => sys!.processor!.health().ok);
    const ci = await jsm.consumers.info("EVENTS", cfg.processor.durable);
    await waitFor("everything acknowledged", async () => (await jsm.consumers.info("EVENTS", cfg.processor.durable)).ack_floor.stream_seq === 50);
    expect(ci.config.ack_policy).toBe(AckPolicy.All);
  });

  it("made again by someone else meanwhile is left alone; the processor stops consuming and says so", async () => {
    const logs: string[] = [];
    const { cfg, jsm } = await start(logs);
    // Deleted, and at once made again under the same name with another ack policy: another processor's.
    // The two requests go out together, so the add is in before the processor, told of the delete, looks.
    await waitFor("the consumer deleted and made again by someone else", async () => {
      const del = jsm.consumers.delete("EVENTS", cfg.processor.durable);
      const add = jsm.consumers.add("EVENTS", { durable_name: cfg.processor.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
      const [d, a] = await Promise.allSettled([del, add]);
      return d.status === "fulfilled" && a.status === "fulfilled";
    }, 10_000, 100);
    const later = views(5);
    await publishEvents(nc!, later);
    await waitFor("the processor to give up consuming", () => !sys!.processor!.health().consuming, 60_000, 200);
    expect(sys!.processor!.health().ok).toBe(false);
    expect(logs.some((l) => l.includes("PS_ERR_PROCESSOR_CONSUMER_TAKEN") || l.includes("exists again, made by someone else"))).toBe(true);
    // The other's consumer is still the one it made.
    expect((await jsm.consumers.info("EVENTS", cfg.processor.durable)).config.ack_policy).toBe(AckPolicy.Explicit);
  });

  it("of a partition is made again by the instance holding its lease", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    const cfg = testConfig(server.url, { partitions: 2, scale: { enabled: true }, log: { level: "info" } as never });
    sys = await startParts("processor", cfg, logs);
    await waitFor("both partitions owned", () => sys!.instance!.workers.size === 2, 30_000);
    nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const first = views(20);
    await publishEvents(nc, first, cfg.partitions);
    await waitFor("the first views decided", async () => (await decisionsByEvent(nc!)).size >= first.length, 30_000, 200);
    await deleteConsumer(jsm, `${cfg.processor.durable}-p0`);
    const later = views(20);
    await publishEvents(nc, later, cfg.partitions);
    await waitFor("the views after the deletion decided, both partitions'", async () => (await decisionsByEvent(nc!)).size >= 40, 60_000, 200);
    const by = await decisionsByEvent(nc!);
    expect([...by.values()].every((ds) => ds.length === 1)).toBe(true);
    expect(logs.some((l) => l.includes('"reason":"consumer-missing"'))).toBe(true);
  });

  it("shared by the instances for inventory is made again: stock still reaches every partition", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    const cfg = testConfig(server.url, { partitions: 2, scale: { enabled: true }, log: { level: "info" } as never });
    sys = await startParts("processor", cfg, logs);
    await waitFor("both partitions owned", () => sys!.instance!.workers.size === 2, 30_000);
    nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const inventory = (id: string, stock: number): ShopEvent => ({ type: "inventory", id, ts: T0, productId: "sku-007", category: "toys", stock, priceCents: 10_000, costCents: 6_000 });
    const copied = async (id: string) => {
      const ids = new Set((await readStream(nc!, "EVENTS")).map((m) => m.msgId));
      return [0, 1].every((k) => ids.has(copyId(id, "s", k)));
    };
    await publishEvents(nc, [inventory("inv-a", 6)], cfg.partitions);
    await waitFor("the first inventory event copied into both partitions", () => copied("inv-a"), 30_000, 200);
    await deleteConsumer(jsm, `${cfg.processor.durable}-inventory`);
    await publishEvents(nc, [inventory("inv-b", 0)], cfg.partitions);
    await waitFor("the inventory event after the deletion copied into both partitions", () => copied("inv-b"), 60_000, 200);
    // Each copy stored once: the first event's copies were not made again.
    const ids = (await readStream(nc, "EVENTS")).map((m) => m.msgId).filter((id) => id?.startsWith("inv-"));
    expect(ids.length).toBe(new Set(ids).size);
    expect(logs.some((l) => l.includes("inventory consumer is gone"))).toBe(true);
    expect((await jsm.consumers.info("EVENTS", `${cfg.processor.durable}-inventory`)).num_pending).toBe(0);
  });
});
