// A crash during the replay that follows a restart. Positioning the consumer deletes the old one, whose
// ack floor said which events' decisions were stored: once kept only in memory, a second crash lost it,
// and the next start (after the duplicate windows) stored the decisions of acknowledged events twice.
// The floor is now kept beside the checkpoints before the consumer goes (src/state/ackfloor.ts).
// Real nats-server; the processors run in this process on connections of their own, "killed" by closing
// their connection (nothing more goes out: no final flush, no checkpoint).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { createMetrics } from "../../src/metrics/index.ts";
import { Processor } from "../../src/processor/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents, readStream } from "../support/streams.ts";
import { testConfig, waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** The processor's insides this test holds still: its checkpoints (none are written) and its acknowledgements. */
type Insides = { queue: { handled(m: { ack(): void }): void }; checkpointer: { checkpoint(): Promise<void> } };
const insides = (p: Processor) => p as unknown as Insides;

describe("a crash during the replay after a restart", () => {
  it("does not store the decisions of events acknowledged before it again", async () => {
    // Short duplicate windows, so the third start comes after them as a restart minutes later would.
    const cfg = testConfig(server.url, { processor: { checkpointEverySec: 2 }, streams: { decisions: { duplicateWindowSec: 4 }, outcomes: { duplicateWindowSec: 4 } } });
    await provision(nc, cfg, createLogger("silent"));
    const t0 = Date.now();
    const events: ShopEvent[] = Array.from({ length: 40 }, (_, i) => ({ type: "send", id: `s-${i}`, ts: t0 + i, customerId: `c-${i}`, channel: "email" }));
    await publishEvents(nc, events, cfg.partitions);
    const jsm = await jetstreamManager(nc);
    const floor = async () => (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq;
    const run = async () => {
      const own = await connect({ servers: server.url });
      const p = new Processor(own, cfg, createLogger("silent"), createMetrics());
      insides(p).checkpointer.checkpoint = async () => undefined;
      return { own, p };
    };

    // Run 1 decides and acknowledges all 40, with no checkpoint written; then it dies.
    const r1 = await run();
    await r1.p.start();
    await waitFor("all 40 acknowledged", async () => (await floor()) >= 40);
    await r1.own.close();

    // Run 2 re-creates the consumer at event 1 (its replay skips the publishes of 1…40) and dies
    // before it acknowledges anything.
    const r2 = await run();
    const q = insides(r2.p).queue;
    const handled = q.handled.bind(q);
    q.handled = () => handled({ ack: () => undefined });
    await r2.p.start();
    expect(await floor()).toBeLessThan(40);
    await r2.own.close();

    // Run 3, after the duplicate windows: its replay must skip 1…40 too.
    await new Promise((r) => setTimeout(r, 5_000));
    const r3 = await run();
    await r3.p.start();
    await waitFor("all 40 acknowledged again", async () => (await floor()) >= 40);
    await r3.p.stop();
    await r3.own.close();
    const stored = await readStream(nc, cfg.streams.decisions.name);
    expect(new Set(stored.map((m) => m.msgId)).size).toBe(40);
    expect(stored.length).toBe(40);
  }, 60_000);
});

// ps_decisions_out_total says "Decisions published": a restart's replay of events whose decisions were
// stored before it publishes none of them (ps_replay_suppressed_total counts those), so it must not count
// them as published either (ps_outcomes_out_total already did not).
describe("the replay after a restart, in the metrics", () => {
  it("counts the decisions it skips as skipped, not as published", async () => {
    const cfg = testConfig(server.url, { processor: { durable: "metrics-replay" } });
    await provision(nc, cfg, createLogger("silent"));
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(cfg.streams.events.name)).state.last_seq;
    const t0 = Date.now();
    const events: ShopEvent[] = Array.from({ length: 30 }, (_, i) => ({ type: "send", id: `m-${i}`, ts: t0 + i, customerId: `mc-${i}`, channel: "email" }));
    await publishEvents(nc, events, cfg.partitions);
    const last = before + 30;
    const floor = async () => (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq;
    const run = async () => {
      const own = await connect({ servers: server.url });
      const metrics = createMetrics();
      const p = new Processor(own, cfg, createLogger("silent"), metrics);
      insides(p).checkpointer.checkpoint = async () => undefined;
      return { own, p, metrics };
    };
    const sum = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values.reduce((s, v) => s + v.value, 0);

    // Run 1 decides and acknowledges all of them, with no checkpoint written; then it dies.
    const r1 = await run();
    await r1.p.start();
    await waitFor("all acknowledged", async () => (await floor()) >= last);
    await r1.own.close();
    // (Every event on the stream is a decision point: this file's other case published sends too.)
    expect(await sum(r1.metrics.decisionsOut)).toBe(last);

    // Run 2 replays them all from the start of the stream: every publish skipped, none published.
    const r2 = await run();
    await r2.p.start();
    await waitFor("the replay handled", () => r2.p.kpi.events >= last);
    await r2.p.flush();
    const published = await sum(r2.metrics.decisionsOut);
    const suppressed = await sum(r2.metrics.replaySuppressed);
    await r2.p.stop();
    await r2.own.close();
    expect(suppressed).toBeGreaterThanOrEqual(last);
    expect(published).toBe(0);
  }, 60_000);
});
