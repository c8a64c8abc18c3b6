// EVENTS deleted and made again (a reset by hand) while the processor's checkpoint stays in PS_STATE:
// the new stream numbers its events from 1, and a processor going on after the checkpoint's sequence
// skipped that many of them without a word. It now sees the stream is another (its creation time, kept
// in the checkpoint), keeps what it learned and reads the new stream from its start.
import { afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { decisionsByEvent, visitMaker } from "../support/shoppers.ts";
import { publishEvents } from "../support/streams.ts";
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

const decided = async () => new Set((await decisionsByEvent(nc!)).keys());

describe("EVENTS made again under a checkpoint", { timeout: 90_000 }, () => {
  it("is read from its start, with what the processor learned kept", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    const cfg = testConfig(server.url, { log: { level: "info" } as never });
    sys = await startParts("processor", cfg, logs);
    nc = await connect({ servers: server.url });
    const before = views(30);
    await publishEvents(nc, before);
    await waitFor("the first views decided", async () => (await decided()).size === before.length, 30_000, 200);
    await sys.stop();
    const mark = logs.length;

    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(cfg.streams.events.name);
    await provision(nc, cfg, createLogger("silent"));
    const after = views(10);
    await publishEvents(nc, after);
    expect((await jsm.streams.info(cfg.streams.events.name)).state.last_seq).toBe(after.length);

    sys = await startParts("processor", cfg, logs);
    await waitFor("the new stream's views decided", async () => {
      const d = await decided();
      return after.every((e) => d.has(e.id));
    }, 30_000, 200);
    expect((await decided()).size).toBe(before.length + after.length);
    const restart = logs.slice(mark);
    const restored = restart.find((l) => l.includes('"restored checkpoint"'));
    expect(restored).toBeDefined();
    expect(JSON.parse(restored!) as { streamSeq: number; customers: number }).toMatchObject({ streamSeq: before.length, customers: before.length });
    expect(restart.some((l) => l.includes("EVENTS was made again since the checkpoint"))).toBe(true);
  });
});
