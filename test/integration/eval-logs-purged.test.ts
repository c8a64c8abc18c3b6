// Reading the log from streams that hold fewer messages than their last sequence says: a stream purged
// (`nats stream purge OUTCOMES`) or aged out by max age keeps its last sequence with no message left,
// and its last message may have been deleted. The read waited for that sequence forever: `--logs` and
// `--export-logs` hung with no word once the messages before it were read.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { readLogFromNats } from "../../src/eval/logs.ts";
import type { ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents } from "../support/streams.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const cfg = loadConfig({ env: {} });
const t0 = Date.parse("2026-03-02T08:00:00Z");
const views = (from: number, n: number): ShopEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: "view", id: `v-${from + i}`, ts: t0 + from + i, customerId: `c-${i % 5}`, sessionId: "s-1", productId: "sku-001", category: "home", priceCents: 3_000 }));

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, cfg, createLogger("silent"));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

// A read that waits for a message that will never come fails by the test's own timeout (no time is asserted).
describe("the what-if log read from NATS, streams with messages gone", { timeout: 30_000 }, () => {
  it("reads a purged stream as empty (its last sequence stays, no message is left)", async () => {
    await publishEvents(nc, views(0, 10));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(cfg.streams.events.name);
    const info = (await jsm.streams.info(cfg.streams.events.name)).state;
    expect(info.messages).toBe(0);
    expect(info.last_seq).toBe(10);
    const { log, counts } = await readLogFromNats(nc, cfg);
    expect(log.events).toHaveLength(0);
    expect(counts.events).toBe(0);
  });

  it("reads every message that is left when the stream's last one was deleted", async () => {
    await publishEvents(nc, views(100, 10));
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info(cfg.streams.events.name)).state.last_seq;
    await jsm.streams.deleteMessage(cfg.streams.events.name, last);
    expect((await jsm.streams.info(cfg.streams.events.name)).state.messages).toBe(9);
    const { log } = await readLogFromNats(nc, cfg);
    expect(log.events.map((e) => e.id)).toEqual(views(100, 9).map((e) => e.id));
  });
});
