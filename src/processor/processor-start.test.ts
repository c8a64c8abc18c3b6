// A processor whose start fails (its KV bucket or stream missing, a restore that cannot be read) must
// let go of what it opened on the connection. A partitioned instance makes a new Processor at every lease
// round while a partition's start keeps failing, on the one connection it keeps: each failed start left
// its publisher's subscription (and its status iterator) behind, without bound.
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { testConfig } from "../../test/support/system.ts";
import { createLogger } from "../log/index.ts";
import { createMetrics } from "../metrics/index.ts";
import { Processor } from "./processor.ts";

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

/** What the client holds open on the connection: subscriptions and status listeners (nats.js internals). */
const held = () => {
  const p = (nc as unknown as { protocol: { subscriptions: { size(): number }; listeners: unknown[] } }).protocol;
  return { subscriptions: p.subscriptions.size(), listeners: p.listeners.length };
};

it("lets go of its subscription and status listener when abandoned after a failed start, however often it is tried", async () => {
  // Nothing provisioned: the state bucket is missing, so the restore fails.
  const cfg = testConfig(server.url, { partitions: 2 });
  const failedStart = async () => {
    const p = new Processor(nc, cfg, createLogger("silent"), createMetrics(), { partition: 1, standalone: false, stillOwner: async () => true, leaseHeld: () => true });
    await expect(p.start()).rejects.toThrow();
    // As a partitioned instance does with a partition whose start failed (src/scale/instance.ts acquired()).
    p.abandon();
    // (A status iterator is let go on the next turn of the loop.)
    await new Promise((r) => setTimeout(r, 20));
  };
  // The first request makes the connection's one shared reply subscription (nats.js's mux): kept, and not the processor's.
  await failedStart();
  const before = held();
  for (let i = 0; i < 5; i++) await failedStart();
  expect(held()).toEqual(before);
});
