// Deliveries that never reach the processor (issue 25), made on purpose without a network: a second
// client pulls from the processor's own durable consumer, so the server hands some events to it and
// the processor sees its delivery sequence jump (or, when the stolen ones were the last, sees nothing
// more arrive). The processor must get every such event from the stream and decide it, never
// acknowledge past it, and never call it lost. Events really gone from the stream (deleted) are lost,
// and said so as deleted, not as removed by limits.
import { afterEach, describe, expect, it } from "vitest";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Decision, ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
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

let n = 0;
/** Decision points: a product view opening a visit of its own. */
const views = (count: number): ShopEvent[] =>
  Array.from({ length: count }, () => {
    const i = ++n;
    return { type: "view", id: `v-${i}`, ts: T0 + i, customerId: `c${i}`, sessionId: `s${i}`, productId: "sku-001", category: "home", priceCents: 3_000 } as ShopEvent;
  });

async function decisionsByEvent(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await readStream(nc!, "DECISIONS")) {
    const d = JSON.parse(new TextDecoder().decode(m.data)) as Decision;
    out.set(d.eventId, (out.get(d.eventId) ?? 0) + 1);
  }
  return out;
}

describe("deliveries that never reach the processor", { timeout: 90_000 }, () => {
  it("are fetched again from the stream, decided once each, never acknowledged past and never called lost", async () => {
    server = await jetstreamServer();
    const logs: string[] = [];
    const cfg = testConfig(server.url, { log: { level: "info" } as never, partitions: 4 });
    sys = await startParts("processor", cfg, logs);
    nc = await connect({ servers: server.url });
    const js = jetstream(nc);
    const ids: string[] = [];
    const reasons = new Set<string>();
    // Rounds until both ways of finding out have happened: a later delivery shows the jump
    // (deliveries-lost), or none comes and the server's count of deliveries shows it (deliveries-stalled).
    // (The server serves waiting pull requests in turn, so in a small burst the thief tends to get the
    // last event and in a larger one a middle one.)
    for (let round = 0; round < 12 && reasons.size < 2; round++) {
      const small = round % 2 === 1;
      const thief = await (await js.consumers.get("EVENTS", "processor")).fetch({ max_messages: small ? 1 : 5, expires: 2_000 });
      const stolen: number[] = [];
      const taking = (async () => {
        for await (const m of thief) stolen.push(m.seq);
      })();
      const batch = views(small ? 2 : 20);
      ids.push(...batch.map((e) => e.id));
      await publishEvents(nc, batch, 4);
      await taking;
      await waitFor("every decision point of the round decided", async () => {
        const by = await decisionsByEvent();
        return ids.every((id) => by.has(id));
      }, 30_000, 200);
      for (const l of logs) {
        const m = /"reason":"(deliveries-[a-z]+)"/.exec(l);
        if (m) reasons.add(m[1]!);
      }
    }
    const by = await decisionsByEvent();
    for (const id of ids) expect(by.get(id), id).toBe(1);
    expect([...reasons].sort()).toEqual(["deliveries-lost", "deliveries-stalled"]);
    expect(logs.filter((l) => l.includes("consumer repositioned")).length).toBeGreaterThanOrEqual(2);
    // Nothing was called lost: the stream held every event.
    expect(logs.some((l) => /"lost":\d+/.test(l))).toBe(false);
    expect(sys.processor!.health().degraded).toEqual([]);
    // The consumer's ack floor reached the last event: nothing left behind.
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info("EVENTS")).state.last_seq;
    await waitFor("the ack floor at the last event", async () => (await jsm.consumers.info("EVENTS", "processor")).ack_floor.stream_seq === last, 10_000);
  });

  it("reports events deleted from the stream before it read them as deleted, not as removed by limits", async () => {
    server = await jetstreamServer();
    const cfg = testConfig(server.url, { log: { level: "info" } as never, partitions: 4 });
    nc = await connect({ servers: server.url });
    await provision(nc, cfg, createLogger("silent"));
    const batch = views(10);
    await publishEvents(nc, batch, 4);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.deleteMessage("EVENTS", 5);
    await jsm.streams.deleteMessage("EVENTS", 6);
    const logs: string[] = [];
    sys = await startParts("processor", cfg, logs);
    const by = await waitFor("the other eight decided", async () => {
      const m = await decisionsByEvent();
      return m.size >= 8 ? m : undefined;
    }, 20_000, 200);
    expect([...by.keys()].sort()).toEqual(batch.filter((_, i) => i !== 4 && i !== 5).map((e) => e.id).sort());
    await waitFor("the loss logged", () => logs.some((l) => l.includes("deleted from the stream")), 10_000);
    const lost = logs.filter((l) => /"lost":\d+/.test(l)).map((l) => JSON.parse(l) as { lost: number; from: number; to: number; msg: string });
    expect(lost).toEqual([expect.objectContaining({ lost: 2, from: 5, to: 6, msg: "events were deleted from the stream before the processor read them" })]);
    const degraded = await waitFor("/health degraded", () => (sys!.processor!.health().degraded.length ? sys!.processor!.health().degraded : undefined), 10_000);
    expect(degraded.join()).toMatch(/2 events were deleted from the stream/);
    // The events after the hole were handled and acknowledged.
    await waitFor("the ack floor at the last event", async () => (await jsm.consumers.info("EVENTS", "processor")).ack_floor.stream_seq === 10, 10_000);
    // (AckPolicy.All: acknowledging seq 10 covers the hole, which the stream no longer holds.)
    expect((await jsm.consumers.info("EVENTS", "processor")).config.ack_policy).toBe(AckPolicy.All);
  });
});
