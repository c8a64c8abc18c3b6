// A partition's processor whose consumer went missing asks its lease (stillOwner) before making it again.
// One failed read of the lease (a timeout, as after the network trouble repositions follow) says nothing
// about who owns the partition: it is asked again. It used to end the loop for good, while the instance
// went on renewing the lease and no one consumed the partition.
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

it("a partition's processor goes on consuming after one failed lease read during a reposition", { timeout: 90_000 }, async () => {
  const cfg = testConfig(server.url, { partitions: 1 });
  await provision(nc, cfg, createLogger("silent"));
  const T0 = Date.parse("2026-03-02T08:00:00Z");
  const shoppers = visitMaker();
  let reads = 0;
  const p = new Processor(nc, cfg, createLogger("silent"), createMetrics(), {
    partition: 0,
    standalone: false,
    stillOwner: async () => {
      if (reads++ === 0) throw new Error("TIMEOUT"); // one KV read that timed out
      return true;
    },
  });
  await p.start();
  const first = shoppers.visits(10, T0);
  await publishEvents(nc, first, 1);
  await waitFor("the first views decided", async () => (await decisionsByEvent(nc)).size >= first.length, 30_000, 200);
  const jsm = await jetstreamManager(nc);
  await waitFor("consumer deleted", () => jsm.consumers.delete(cfg.streams.events.name, p.name), 10_000, 100);
  const later = shoppers.visits(10, T0 + 3_600_000);
  await publishEvents(nc, later, 1);
  try {
    await waitFor("the later views decided", async () => (await decisionsByEvent(nc)).size >= first.length + later.length, 30_000, 200);
  } finally {
    console.log("stillOwner reads:", reads, "health:", JSON.stringify(p.health()));
    await p.stop();
  }
});
