// A decision's explanation grows with the promotions (about 80 bytes each); the DECISIONS stream
// refuses a message over streams.decisions.maxMsgBytes for good. Such a decision once held every
// acknowledgement behind it, with /health ok. Here a limit small enough for 40 promotions to outgrow
// it: every decision point still gets its decision, shortened, and every event is acknowledged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeDecision, type ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { publishEvents, readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let sys: Running;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await sys?.stop();
  await nc?.close();
  await server?.stop();
});

describe("decisions larger than the stream takes", () => {
  it("go out shortened, each decision point decided and every event acknowledged", async () => {
    const promotions = Array.from({ length: 40 }, (_, i) => ({ id: `p-${i}`, name: `P ${i}`, kind: "amount" as const, amountOffCents: 100 + i, channels: ["email" as const], budgetCents: 1_000_000, maxDiscountCents: 1000 }));
    const cfg = testConfig(server.url, { promotions, streams: { decisions: { maxMsgBytes: 2048 } } });
    sys = await startParts("processor", cfg);
    const t0 = Date.now();
    const events: ShopEvent[] = Array.from({ length: 20 }, (_, i) => ({ type: "send", id: `s-${i}`, ts: t0 + i, customerId: `c-${i}`, channel: "email" }));
    await publishEvents(nc, events, cfg.partitions);
    const jsm = await jetstreamManager(nc);
    await waitFor("every event acknowledged", async () => (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq === events.length, 20_000);
    const stored = (await readStream(nc, cfg.streams.decisions.name)).map((m) => ({ bytes: m.data.byteLength, d: decodeDecision(m.data) }));
    expect(stored.map((s) => (s.d.ok ? s.d.value.eventId : s.d.detail)).sort()).toEqual(events.map((e) => e.id).sort());
    expect(Math.max(...stored.map((s) => s.bytes))).toBeLessThanOrEqual(2048);
    // Shortened: the explanation says how much it left out; the arm chosen is among its candidates.
    for (const s of stored) {
      const d = s.d.ok ? s.d.value : undefined;
      expect((d?.explanation.candidatesOmitted ?? 0) + (d?.explanation.excludedOmitted ?? 0)).toBeGreaterThan(0);
      expect(d?.explanation.candidates.some((c) => c.promotionId === d.promotionId)).toBe(true);
    }
    expect(sys.processor!.health()).toMatchObject({ ok: true, degraded: [] });
  });

  it("says on /health when its publishes keep being refused (nothing is acknowledged meanwhile), and stops saying it once they are stored", async () => {
    const cfg = testConfig(server.url, {});
    const jsm = await jetstreamManager(nc);
    // The stream its decisions go to is gone (removed by hand, say): every publish is refused.
    await jsm.streams.delete(cfg.streams.decisions.name);
    const ts = Date.now();
    await publishEvents(nc, [{ type: "send", id: "gone-1", ts, customerId: "c-gone", channel: "email" }], cfg.partitions);
    const degraded = await waitFor("health degraded", () => sys.processor!.health().degraded?.find((d) => d.startsWith("publishes refused")), 30_000, 200);
    expect(degraded).toMatch(/nothing acknowledged since/);
    const floor = (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq;
    expect(floor).toBeLessThan((await jsm.streams.info(cfg.streams.events.name)).state.last_seq);
    await provision(nc, cfg, createLogger("silent"));
    await waitFor("health no longer degraded", () => sys.processor!.health().degraded?.length === 0, 30_000, 200);
    const decided = await waitFor("the decision stored", async () => (await readStream(nc, cfg.streams.decisions.name)).find((m) => decodeDecision(m.data).ok), 10_000);
    expect(decodeDecision(decided.data)).toMatchObject({ ok: true, value: { eventId: "gone-1" } });
  });
});
