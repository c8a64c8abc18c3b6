// A restarted simulator resumes its clock just after the newest shop event in EVENTS (so it neither reuses
// event ids nor sends events the engine counts late), and only after a shop event: partitioned processors
// publish `sync` and `allowance` events every second stamped with the wall clock, and the simulator used
// to take the stream's newest message, whatever it was, and start at today instead of the shop's time.
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Subjects, type ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { SimulatorRunner } from "../../simulator/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents, publishRouted } from "../support/streams.ts";
import { testConfig } from "../support/system.ts";

const START = Date.parse("2026-03-02T08:00:00Z");
let server: NatsServerHandle | undefined;
let nc: NatsConnection | undefined;
let runner: SimulatorRunner | undefined;

afterEach(async () => {
  await runner?.stop();
  await nc?.close();
  await server?.stop();
  runner = nc = server = undefined;
});

async function simulatorAfter(publish: (nc: NatsConnection) => Promise<void>): Promise<number> {
  server = await jetstreamServer();
  const cfg = testConfig(server.url, { simulator: { speed: 0.1, startTime: new Date(START).toISOString() } });
  nc = await connect({ servers: server.url });
  const log = createLogger("silent");
  await provision(nc, cfg, log);
  await publish(nc);
  runner = new SimulatorRunner(nc, cfg, log);
  await runner.start();
  return runner.status().simTimeMs;
}

describe("a restarted simulator's clock", () => {
  it("starts at simulator.startTime on an empty stream", async () => {
    const t = await simulatorAfter(async () => {});
    expect(t).toBeGreaterThanOrEqual(START);
    expect(t).toBeLessThan(START + 60_000);
  });

  it("resumes after the newest shop event, not after the processors' sync and allowance events stamped with the wall clock", async () => {
    const shopTs = START + 3_600_000;
    const t = await simulatorAfter(async (nc) => {
      await publishEvents(nc, [
        { type: "view", id: "v-1", ts: shopTs - 5_000, customerId: "c00001", sessionId: "s1", productId: "sku-001", category: "home", priceCents: 3_000 },
        { type: "inventory", id: "inv-1", ts: shopTs, productId: "sku-001", category: "home", stock: 5, priceCents: 3_000, costCents: 2_000 },
      ]);
      const s = new Subjects();
      const now = Date.now();
      const internal: ShopEvent[] = [
        { type: "sync", id: "sync-1", ts: now, from: 1, customers: [] } as unknown as ShopEvent,
        { type: "allowance", id: "allow-1", ts: now, resource: "budget", key: "p1", total: 100 },
      ];
      await publishRouted(nc, internal.map((event) => ({ subject: s.partitioned(event.type as "sync" | "allowance", 0), event })));
    });
    expect(t).toBeGreaterThanOrEqual(shopTs + 1_000);
    expect(t).toBeLessThan(shopTs + 60_000);
  });
});
