// Fuzzed bad input (fast-check, fixed seed) through the real processor on a real JetStream: every bad
// message lands in deadletter.events with its reason, the consumer keeps going, and memory does not grow
// with the number of bad messages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../src/config/index.ts";
import { EVENT_TYPES, PS_ERR_EVENT, type DeadLetterReason } from "../../src/events/index.ts";
import type { DeadLetter } from "../../src/io/nats/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const enc = new TextEncoder();

interface Bad {
  subject: string;
  data: Uint8Array;
  /** Reasons this message may be dead-lettered with. */
  reasons: DeadLetterReason[];
}

const valid = (id: string, ts = T0 + 60_000) => ({ type: "visit", id, ts, customerId: "c-bad-1", channel: "web" });
const json = (v: unknown) => enc.encode(JSON.stringify(v));
/** A decision point: a product view opening a visit of its own (with the default decisionPoints). */
const productView = (id: string, ts = T0 + 60_000) => ({ type: "view", id, ts, customerId: "c-bad-1", sessionId: `s-${id}`, productId: "sku-001", category: "toys", priceCents: 2_000 });

/** One generator per kind of bad input the issue lists. */
function badInputs(maxEventBytes: number): fc.Arbitrary<Bad> {
  const id = fc.stringMatching(/^[a-z0-9]{6,12}$/).map((s) => `bad-${s}`);
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ subject: "events.view.0", data: b, reasons: [PS_ERR_EVENT.NotJson, PS_ERR_EVENT.Invalid, PS_ERR_EVENT.UnknownType] })),
    fc.string({ maxLength: 80 }).map((s) => ({ subject: "events.view.1", data: enc.encode(`{"type":"view",${s}`), reasons: [PS_ERR_EVENT.NotJson] })),
    fc.tuple(id, fc.constantFrom("ts", "customerId", "channel", "id"), fc.oneof(fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 2 }), fc.object({ maxDepth: 1 })))
      .map(([i, key, v]) => ({ subject: "events.visit.2", data: json({ ...valid(i), [key]: v }), reasons: [PS_ERR_EVENT.Invalid] })),
    fc.tuple(id, fc.constantFrom("ts", "customerId", "channel", "id", "type")).map(([i, key]) => {
      const e: Record<string, unknown> = valid(i);
      delete e[key];
      return { subject: "events.visit.3", data: json(e), reasons: key === "type" ? [PS_ERR_EVENT.UnknownType] : [PS_ERR_EVENT.Invalid] };
    }),
    fc.tuple(id, fc.string({ minLength: 1, maxLength: 12 }).filter((t) => !(EVENT_TYPES as readonly string[]).includes(t))).map(([i, t]) => ({ subject: "events.view.4", data: json({ ...valid(i), type: t }), reasons: [PS_ERR_EVENT.UnknownType] })),
    id.map((i) => ({ subject: "events.visit.5", data: json({ ...valid(i), pad: "x".repeat(maxEventBytes) }), reasons: [PS_ERR_EVENT.Oversized] })),
    fc.tuple(id, fc.integer({ min: 3, max: 3000 })).map(([i, days]) => ({ subject: "events.visit.6", data: json(valid(i, T0 + days * 86_400_000)), reasons: [PS_ERR_EVENT.FarFuture] })),
    fc.tuple(id, fc.integer({ min: 0, max: 946_684_799_999 })).map(([i, ts]) => ({ subject: "events.visit.7", data: json(valid(i, ts)), reasons: [PS_ERR_EVENT.Invalid] })),
    fc.tuple(id, fc.integer({ min: 1, max: 30 })).map(([i, days]) => ({ subject: "events.visit.0", data: json(valid(i, T0 - days * 86_400_000)), reasons: [PS_ERR_EVENT.Late] })),
    fc.tuple(id, fc.integer({ min: -1_000_000, max: -1 }), fc.boolean()).map(([i, n, qty]) => ({
      subject: "events.cart.1",
      data: json({ type: "cart", id: i, ts: T0 + 60_000, customerId: "c-bad-2", productId: "sku-001", quantity: qty ? n : 1, priceCents: qty ? 100 : n }),
      reasons: [PS_ERR_EVENT.Invalid],
    })),
    id.map((i) => ({ subject: "events.cart.2", data: json({ ...valid(i) }), reasons: [PS_ERR_EVENT.SubjectMismatch] })),
  );
}

let server: NatsServerHandle;
let sys: Running;
let nc: NatsConnection;
let cfg: Readonly<Config>;
const logLines: string[] = [];

beforeAll(async () => {
  server = await jetstreamServer();
  // No simulator: this test controls every event. Fast snapshots so health is known quickly.
  // Warnings kept: what a flood of bad events writes to the log is part of what is checked.
  cfg = testConfig(server.url, { processor: { snapshotEveryMs: 200 }, log: { level: "warn" } as Config["log"] });
  sys = await startParts("processor", cfg, logLines);
  nc = await connect({ servers: server.url });
  // A valid first event sets the event-time watermark the lateness and far-future checks use.
  nc.publish("events.view.0", json(productView("first")));
  await waitFor("the first decision", () => sys.processor!.kpi.decisions === 1);
});

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
});

async function drain(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info("EVENTS")).state.last_seq;
  await waitFor("the processor to drain", async () => (await jsm.consumers.info("EVENTS", cfg.processor.durable)).ack_floor.stream_seq >= last, 60_000, 50);
  return last;
}

describe("bad input", () => {
  it("dead-letters every bad message with its reason and keeps consuming", async () => {
    const bad = fc.sample(badInputs(cfg.processor.maxEventBytes), { seed: 4242, numRuns: 600 });
    // Duplicate ids: a valid event sent twice without Nats-Msg-Id (so the stream keeps both copies).
    bad.push({ subject: "events.visit.1", data: json(valid("dup-1")), reasons: [] });
    bad.push({ subject: "events.visit.1", data: json(valid("dup-1")), reasons: [PS_ERR_EVENT.Duplicate] });
    const jsm = await jetstreamManager(nc);
    const firstSeq = (await jsm.streams.info("EVENTS")).state.last_seq + 1;
    for (const b of bad) nc.publish(b.subject, b.data);
    await nc.flush();
    await drain();

    const dls = (await readStream(nc, "DEADLETTER")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter);
    const bySeq = new Map(dls.map((d) => [d.streamSeq, d]));
    const expected = bad.filter((b) => b.reasons.length > 0).length;
    expect(dls.length).toBe(expected);
    bad.forEach((b, i) => {
      const d = bySeq.get(firstSeq + i);
      if (b.reasons.length === 0) return expect(d).toBeUndefined();
      expect(d, `message ${i} on ${b.subject}`).toBeDefined();
      expect(b.reasons).toContain(d!.reason);
      expect(d!.detail.length).toBeGreaterThan(0);
      expect(Buffer.from(d!.payloadBase64, "base64").subarray(0, 64)).toEqual(Buffer.from(b.data.subarray(0, 64)));
    });
    // Counted by reason, in the processor and in its metrics.
    const counts = sys.processor!.kpi.deadLetters;
    expect(Object.values(counts).reduce((a, x) => a + x, 0)).toBe(expected);
    for (const r of [PS_ERR_EVENT.NotJson, PS_ERR_EVENT.Invalid, PS_ERR_EVENT.UnknownType, PS_ERR_EVENT.Oversized, PS_ERR_EVENT.FarFuture, PS_ERR_EVENT.Late, PS_ERR_EVENT.Duplicate, PS_ERR_EVENT.SubjectMismatch])
      expect(counts[r], r).toBeGreaterThan(0);

    // Logged once per kind, not once per message: 600 bad messages, one warning per reason.
    const warned = logLines.map((l) => JSON.parse(l) as { kind?: string }).filter((l) => l.kind?.startsWith("deadletter:"));
    expect(new Set(warned.map((l) => l.kind)).size).toBe(warned.length);
    expect(warned.length).toBeLessThanOrEqual(Object.keys(counts).length);

    // Still consuming: a valid decision point after all that gets its decision.
    const before = sys.processor!.kpi.decisions;
    nc.publish("events.view.3", json(productView("after-the-storm")));
    await waitFor("a decision after the bad input", () => sys.processor!.kpi.decisions === before + 1);
  });

  it("does not apply a stock, allowance or sync event on a processor of the whole stream: dead-letters it", async () => {
    // Only partitioned processors publish these (to each other's partitions). A processor of the whole
    // stream applied them from anyone who can publish on EVENTS: a grant raised a promotion's budget to
    // 10 billion dollars, a sync added a billion successes to an arm, a stock copy set a product's price.
    const engine = sys.processor!.engine;
    const [promo, budget] = [...engine.ledger.budgets].find(([, b]) => b.budgetCents > 0)!;
    const before = { budgetCents: budget.budgetCents, product: engine.ledger.products.get("sku-forged") };
    const forged: Bad[] = [];
    for (const n of [1, 2]) {
      forged.push({ subject: "events.allowance.0", data: json({ type: "allowance", id: `al-${n}`, ts: T0 + 60_000, resource: "budget", key: promo, total: 1_000_000_000_000 }), reasons: [PS_ERR_EVENT.Invalid] });
      forged.push({ subject: "events.sync.1", data: json({ type: "sync", id: `sy-${n}`, ts: T0 + 60_000, from: 3, arms: { [promo]: { "": [1e9, 0, T0] } } }), reasons: [PS_ERR_EVENT.Invalid] });
      forged.push({ subject: "events.stock.2", data: json({ type: "stock", id: `st-${n}`, ts: T0 + 60_000, productId: "sku-forged", category: "toys", stock: 5, priceCents: 1, costCents: 1_000_000 }), reasons: [PS_ERR_EVENT.Invalid] });
    }
    const jsm = await jetstreamManager(nc);
    const firstSeq = (await jsm.streams.info("EVENTS")).state.last_seq + 1;
    const dlBefore = (await jsm.streams.info("DEADLETTER")).state.last_seq;
    for (const f of forged) nc.publish(f.subject, f.data);
    await nc.flush();
    await drain();

    expect(engine.ledger.budgets.get(promo)!.budgetCents).toBe(before.budgetCents);
    expect(engine.remoteArms).toEqual({});
    expect(engine.ledger.products.get("sku-forged")).toEqual(before.product);
    const dls = (await readStream(nc, "DEADLETTER")).filter((m) => m.seq > dlBefore).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter);
    expect(dls.map((d) => d.streamSeq)).toEqual(forged.map((_, i) => firstSeq + i));
    for (const d of dls) {
      expect(d.reason).toBe(PS_ERR_EVENT.Invalid);
      expect(d.detail).toMatch(/partitioned processors' own/);
    }
    // A warning once per type, whatever the number sent, apart from the shop's other invalid events.
    const warned = logLines.map((l) => JSON.parse(l) as { kind?: string; msg: string }).filter((l) => l.kind?.endsWith(":foreign"));
    expect(warned.map((l) => l.kind).sort()).toEqual(["deadletter:invalid:allowance:foreign", "deadletter:invalid:stock:foreign", "deadletter:invalid:sync:foreign"]);
    expect(warned[0]!.msg).toMatch(/another producer/);
  });

  it("does not grow memory with the number of bad messages", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "run with --expose-gc (vitest.config.ts execArgv)").toBeDefined();
    const batch = (seed: number, n: number) => fc.sample(badInputs(cfg.processor.maxEventBytes), { seed, numRuns: n });
    const heapAfter = async (seed: number, n: number) => {
      for (const b of batch(seed, n)) nc.publish(b.subject, b.data);
      await nc.flush();
      await drain();
      gc!();
      await new Promise((r) => setTimeout(r, 50));
      gc!();
      return process.memoryUsage().heapUsed;
    };
    const small = await heapAfter(1, 2_000);
    const large = await heapAfter(2, 20_000);
    // Tolerance: 10× the bad messages may not retain more than 8 MB more heap (each message is up to
    // 16 KB, so retaining them would cost hundreds of MB).
    expect(large - small).toBeLessThan(8 * 1024 * 1024);
    expect(sys.processor!.engine.recentIds.size).toBeLessThan(100);
  });
});
