// A producer that routes customers by a hash or a partition count of its own: a partitioned processor
// takes only the customers that are its partition's (FNV-1a of the customer id mod the count, as every
// part of promo-stream routes), and dead-letters the others with where they belong. Taken, a
// customer's visits, frequency caps and open decisions were split between two engines, and a purchase
// on one partition never closed the offer made on the other.
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { partitionOf, PS_ERR_EVENT } from "../../src/events/index.ts";
import type { DeadLetter } from "../../src/io/nats/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const PARTITIONS = 2;
let server: NatsServerHandle;
let nc: NatsConnection;
let sys: Running | undefined;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await sys?.stop();
  await nc?.close();
  await server?.stop();
});

it("a partition's processor dead-letters a customer's event sent to another partition's subject, naming the right one", { timeout: 60_000 }, async () => {
  const cfg = testConfig(server.url, { partitions: PARTITIONS, scale: { enabled: true, leaseTtlSec: 3, syncEveryMs: 60_000 } });
  sys = await startParts("processor", cfg);
  const instance = sys.instance!;
  await waitFor("both partitions running", () => instance.workers.size === PARTITIONS, 30_000, 50);
  const customers = Array.from({ length: 50 }, (_, i) => `c-route-${i}`);
  const of1 = customers.find((c) => partitionOf(c, PARTITIONS) === 1)!;
  const view = (id: string, customerId: string) => JSON.stringify({ type: "view", id, ts: T0 + 60_000, customerId, sessionId: `s-${id}`, productId: "sku-001", category: "toys", priceCents: 2_000 });
  // A customer of partition 1 on partition 0's subject (a producer's own hash), then on its own.
  nc.publish("events.view.0", view("misrouted", of1));
  nc.publish("events.view.1", view("routed", of1));
  await nc.flush();
  await waitFor("the routed view handled", () => (instance.workers.get(1)?.engine.counters.events ?? 0) >= 1, 20_000, 50);
  const dls = await waitFor("the dead letter", async () => {
    const all = (await readStream(nc, "DEADLETTER")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter);
    return all.length ? all : undefined;
  }, 20_000, 200);
  expect(dls.map((d) => [d.eventId, d.reason])).toEqual([["misrouted", PS_ERR_EVENT.SubjectMismatch]]);
  expect(dls[0]!.detail).toContain(`is partition 1's`);
  expect(dls[0]!.detail).toContain("events.<type>.1");
  // Partition 0's engine never saw the customer; partition 1's has the one routed view.
  expect(instance.workers.get(0)!.engine.counters.events).toBe(0);
  expect(instance.workers.get(1)!.engine.counters.events).toBe(1);
});
