// The processor's consumer deleted while the processor was cut off from NATS. After the reconnect it
// pulls again, and opening the consumer's messages fails with "consumer not found" for as long as one
// cares to retry; no status of open messages tells of the deletion, since none are open. It used to
// retry forever, not consuming, until restarted; it now makes the consumer again at the first event it
// has not handled, as for a consumer deleted while it runs (consumer-deleted.test.ts).
import { createServer, Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { createMetrics } from "../../src/metrics/index.ts";
import { Processor } from "../../src/processor/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { decisionsByEvent, visitMaker } from "../support/shoppers.ts";
import { publishEvents } from "../support/streams.ts";
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

/** A TCP proxy to the server that can be cut (connections reset, new ones refused) and healed. */
async function proxy(target: string) {
  const u = new URL(target.includes("://") ? target : `nats://${target}`);
  const sockets = new Set<Socket>();
  let cut = false;
  const srv = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = new Socket();
    upstream.connect(Number(u.port), u.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  return {
    url: `127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    heal() {
      cut = false;
    },
    close: () => srv.close(),
  };
}

it("makes its consumer again when it was deleted while the processor was disconnected", { timeout: 120_000 }, async () => {
  const cfg = testConfig(server.url);
  await provision(nc, cfg, createLogger("silent"));
  const px = await proxy(server.url);
  const own = await connect({ servers: px.url, reconnectTimeWait: 200, maxReconnectAttempts: -1 });
  const logs: string[] = [];
  const log = createLogger("info", "test:processor", { write: (s: string) => void logs.push(s) });
  const p = new Processor(own, cfg, log, createMetrics());
  await p.start();
  const T0 = Date.parse("2026-03-02T08:00:00Z");
  const shoppers = visitMaker();
  const first = shoppers.visits(10, T0);
  await publishEvents(nc, first);
  await waitFor("the first views decided", async () => (await decisionsByEvent(nc)).size >= first.length, 30_000, 200);

  px.cut();
  const jsm = await jetstreamManager(nc);
  await waitFor("consumer deleted", () => jsm.consumers.delete(cfg.streams.events.name, cfg.processor.durable), 10_000, 100);
  await new Promise((r) => setTimeout(r, 1_000));
  px.heal();

  const later = shoppers.visits(10, T0 + 3_600_000);
  await publishEvents(nc, later);
  try {
    await waitFor("the later views decided", async () => (await decisionsByEvent(nc)).size >= first.length + later.length, 40_000, 500);
    expect([...(await decisionsByEvent(nc)).values()].every((ds) => ds.length === 1)).toBe(true);
  } finally {
    console.log("health:", JSON.stringify(p.health()));
    console.log(logs.filter((l) => /retrying|consumer|reposition|reconnect/i.test(l)).slice(-6).map((l) => JSON.parse(l).msg + " " + (JSON.parse(l).err ?? "")).join("\n"));
    await p.stop();
    await own.close();
    px.close();
  }
});
