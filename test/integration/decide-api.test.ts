// Decide in one call, and events in over HTTP (issue 22), on a real nats-server with the real processor
// and server: a decision point answers its decision (the one stored in DECISIONS), anything else says
// why not; a retry under the same id answers the same decision, also after a timeout; a malformed event
// gets 400 naming the field; more requests than decide.maxInFlight are shed at once with 503 and
// Retry-After; the NATS request/reply subject answers the same way; POST /api/events says per event
// what became of it and dead-letters what it refused; the token rules hold.
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../src/config/index.ts";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { answerKey, isValidDecision, type Decision, type DecideAnswer } from "../../src/events/index.ts";
import type { DeadLetter } from "../../src/io/nats/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";
import { PromoStreamClient, type TrackAnswer } from "../../src/client/index.ts";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

let nats: NatsServerHandle | undefined;
let server: Running | undefined;
let processor: Running | undefined;
let nc: NatsConnection | undefined;

afterEach(async () => {
  await nc?.close();
  await processor?.stop();
  await server?.stop();
  await nats?.stop();
  nats = server = processor = nc = undefined;
});

async function start(overrides: DeepPartial<Config> = {}, withProcessor = true): Promise<{ cfg: Readonly<Config>; url: string }> {
  nats = await jetstreamServer();
  const cfg = testConfig(nats.url, { partitions: 4, ...overrides } as never);
  server = await startParts("server", cfg);
  if (withProcessor) processor = await startParts("processor", cfg);
  nc = await connect({ servers: nats.url });
  return { cfg, url: server.url! };
}

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(new URL(path, url), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

const view = (id: string, extra: Record<string, unknown> = {}) => ({ type: "view", id, customerId: `c-${id}`, sessionId: `s-${id}`, productId: "sku-001", category: "home", priceCents: 3_000, ...extra });

/**
 * decide.<channel> over NATS request/reply, asked again (same event id) while the answer is a 503: under
 * load the server may shed a request or not get its event stored in time, and says so; a caller asks
 * again, as the storefront client does over HTTP.
 */
async function requestDecide(subject: string, event: unknown): Promise<DecideAnswer & { status?: number; error?: string }> {
  for (let attempt = 0; ; attempt++) {
    const a = (await nc!.request(subject, JSON.stringify(event), { timeout: 10_000 })).json<DecideAnswer & { status?: number; error?: string }>();
    if (a.status !== 503 || attempt >= 10) return a;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function storedDecisions(): Promise<Decision[]> {
  return (await readStream(nc!, "DECISIONS")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as Decision);
}

describe("POST /api/decide and decide.<channel>", { timeout: 60_000 }, () => {
  it("answers a decision point with its decision, anything else with why not, and a retry with the same decision", async () => {
    const { url } = await start({ decide: { timeoutMs: 5_000 } });
    const first = await post(url, "/api/decide", view("v-1"));
    expect(first.status).toBe(200);
    const d = (first.body as DecideAnswer).decision!;
    expect(isValidDecision(d)).toBe(true);
    expect(d).toMatchObject({ id: "d-v-1", eventId: "v-1", customerId: "c-v-1", point: "product-view", productId: "sku-001" });
    // A second view of the same product in the same visit is not a decision point.
    const second = await post(url, "/api/decide", view("v-2", { customerId: "c-v-1", sessionId: "s-v-1" }));
    expect(second.body).toEqual({ decision: null, reason: "not-a-decision-point" });
    // A retry under the same id: the same decision, never a second one.
    const retry = await post(url, "/api/decide", view("v-1"));
    expect(retry.body).toEqual(first.body);
    const stored = await storedDecisions();
    expect(stored.filter((x) => x.eventId === "v-1")).toEqual([d]);
    // The event itself went into EVENTS, stamped with a time and marked as awaited.
    const events = (await readStream(nc!, "EVENTS")).map((m) => ({ msgId: m.msgId, e: JSON.parse(new TextDecoder().decode(m.data)) as { id: string; ts: number; decide?: boolean } }));
    const e1 = events.filter((x) => x.e.id === "v-1");
    expect(e1.length).toBe(1);
    expect(e1[0]!.msgId).toBe("v-1");
    expect(e1[0]!.e.decide).toBe(true);
    expect(Math.abs(e1[0]!.e.ts - Date.now())).toBeLessThan(60_000);

    // The same over NATS request/reply; an event of another channel's subject is refused.
    const viaNats = await requestDecide("decide.web", view("v-3"));
    expect(viaNats.decision, JSON.stringify(viaNats)).toMatchObject({ id: "d-v-3", eventId: "v-3", channel: "web" });
    const wrong = await requestDecide("decide.email", view("v-4"));
    expect(wrong).toMatchObject({ status: 400 });
    expect(wrong.error).toMatch(/\/channel: a view event is decided on web, not on email/);
    // A send decides on its own channel.
    const send = await requestDecide("decide.email", { type: "send", id: "s-1", customerId: "c-s-1", channel: "email" });
    expect(send.decision, JSON.stringify(send)).toMatchObject({ id: "d-s-1", channel: "email", point: "send" });
  });

  it("names the field of a malformed event (400) and refuses event types that are never decision points", async () => {
    const { url } = await start({}, false);
    const noCustomer = await post(url, "/api/decide", { type: "view", id: "x-1", productId: "sku-1" });
    expect(noCustomer.status).toBe(400);
    expect(noCustomer.body.error).toMatch(/customerId/);
    const badPrice = await post(url, "/api/decide", view("x-2", { priceCents: -5 }));
    expect(badPrice.status).toBe(400);
    expect(badPrice.body.error).toMatch(/\/priceCents/);
    const purchase = await post(url, "/api/decide", { type: "purchase", id: "p-1", customerId: "c", totalCents: 100 });
    expect(purchase.status).toBe(400);
    expect(purchase.body.error).toMatch(/\/type: must be one of view, cart, send, visit/);
    const notJson = await post(url, "/api/decide", "{not json");
    expect(notJson.status).toBe(400);
    // Nothing of it reached the stream.
    expect(await readStream(nc!, "EVENTS")).toEqual([]);
  });

  it("answers timeout when no decision comes in time, and the decision to a retry once it is made", async () => {
    const { url, cfg } = await start({ decide: { timeoutMs: 200 } }, false);
    const first = await post(url, "/api/decide", view("t-1"));
    expect(first.body).toEqual({ decision: null, reason: "timeout" });
    // The event was stored all the same: the processor decides it when it comes.
    processor = await startParts("processor", cfg);
    const later = await waitFor("the decision for a retry", async () => {
      const r = await post(url, "/api/decide", view("t-1"));
      return r.body.decision ? (r.body as DecideAnswer) : undefined;
    }, 30_000, 100);
    expect(later.decision).toMatchObject({ id: "d-t-1", eventId: "t-1" });
    // Stored once, decided once.
    expect((await readStream(nc!, "EVENTS")).length).toBe(1);
    expect((await storedDecisions()).map((x) => x.id)).toEqual(["d-t-1"]);
    expect((await post(url, "/api/decide", view("t-1"))).body).toEqual(later);
  });

  it("looks for a stored answer inside the deadline, not after it", async () => {
    // No processor: no answer comes, so the server looks in the answers bucket (for an event handled
    // before, stored again past EVENTS' duplicate window) before it says timeout. That look used to
    // start at the deadline and could hold the timeout up to 200 ms past it (four times the default
    // 50 ms). Seen from outside: the bucket read's request on NATS, and when the answer comes.
    const timeoutMs = 2_000;
    const { url, cfg } = await start({ decide: { timeoutMs } }, false);
    const reads: number[] = [];
    // A KV get asks the stream for its last message on the key's subject (direct get is not on here).
    const spy = nc!.subscribe(`$JS.API.STREAM.MSG.GET.KV_${cfg.kv.answersBucket}`, { callback: () => void reads.push(Date.now()) });
    await nc!.flush();
    const r = await post(url, "/api/decide", view("l-1"));
    const answeredAt = Date.now();
    spy.unsubscribe();
    expect(r.body).toEqual({ decision: null, reason: "timeout" });
    expect(reads.length).toBe(1);
    // Halfway: a whole half of the deadline (1 s) between the read and the answer; after the deadline
    // there was none.
    expect(answeredAt - reads[0]!).toBeGreaterThan(timeoutMs / 4);
  });

  it("keeps a decision's stored answer when a retry is stored again after EVENTS' duplicate window (by another server, say)", async () => {
    const { url, cfg } = await start({ decide: { timeoutMs: 5_000 }, processor: { checkpointEverySec: 1 }, streams: { events: { duplicateWindowSec: 2 } } });
    // The answers bucket's own duplicate window (2 min by default) would drop a second write under the
    // answer's msg id until then: 1 s here, as for a retry that comes minutes later.
    const jsm = await jetstreamManager(nc!);
    const answers = `KV_${cfg.kv.answersBucket}`;
    await jsm.streams.update(answers, { ...(await jsm.streams.info(answers)).config, duplicate_window: 1_000_000_000 });
    const first = await post(url, "/api/decide", view("w-1"));
    expect(first.body.decision).toMatchObject({ id: "d-w-1" });
    const [stored] = await readStream(nc!, "EVENTS");
    await new Promise((r) => setTimeout(r, 2_500));
    // The same event under the same msg id, past the window: the stream stores it again.
    const ack = await jetstream(nc!).publish(stored!.subject, stored!.data, { msgID: "w-1" });
    expect(ack.duplicate).toBe(false);
    // The processor has handled the event once: it dead-letters the second copy as a duplicate...
    await waitFor("the second copy dead-lettered as a duplicate", async () =>
      (await readStream(nc!, "DEADLETTER")).some((m) => (JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter).reason === "duplicate"),
    );
    // ...and the answer a retry finds is still the decision.
    const entry = await (await new Kvm(nc!).open(cfg.kv.answersBucket)).get(answerKey("w-1"));
    expect(entry?.json<DecideAnswer>()).toEqual(first.body);
    // A retry past the window again, to a server that never heard the first answer (a restarted one, or
    // another replica): stored again, and the processor writes nothing new; the server finds the first.
    await new Promise((r) => setTimeout(r, 2_500));
    const other = await startParts("server", testConfig(nats!.url, { partitions: 4, decide: { timeoutMs: 500 }, processor: { checkpointEverySec: 1 }, streams: { events: { duplicateWindowSec: 2 } } }));
    try {
      const retry = await post(other.url!, "/api/decide", view("w-1"));
      expect(retry.body).toEqual(first.body);
    } finally {
      await other.stop();
    }
  });

  it("sheds requests over decide.maxInFlight at once (503, Retry-After), while those in flight get their answers", async () => {
    const { url } = await start({ decide: { timeoutMs: 1_500, maxInFlight: 2 } }, false);
    const waiting = [post(url, "/api/decide", view("o-1")), post(url, "/api/decide", view("o-2"))];
    await waitFor("two requests in flight", () => server!.server!.decider.requestsInFlight === 2, 5_000, 5);
    const shed = await post(url, "/api/decide", view("o-3"));
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(shed.body.error).toMatch(/decide\.maxInFlight 2/);
    // Shed before anything was published: o-3 is not in the stream. The two in flight are still waiting.
    expect(server!.server!.decider.requestsInFlight).toBe(2);
    const results = await Promise.all(waiting);
    expect(results.map((r) => r.body)).toEqual([{ decision: null, reason: "timeout" }, { decision: null, reason: "timeout" }]);
    expect((await readStream(nc!, "EVENTS")).map((m) => m.msgId).sort()).toEqual(["o-1", "o-2"]);
    const metrics = await (await fetch(new URL("/metrics", url))).text();
    expect(metrics).toMatch(/ps_decide_requests_total\{outcome="shed"\} 1/);
  });

  it("answers a retry of an event it already answered even while it sheds new ones", async () => {
    const { url } = await start({ decide: { timeoutMs: 1_500, maxInFlight: 1 } });
    const first = await post(url, "/api/decide", view("k-1"));
    expect(first.body.decision).toMatchObject({ id: "d-k-1" });
    // No processor from here on: a new event waits out its deadline, holding the one place in flight.
    await processor!.stop();
    processor = undefined;
    const waiting = post(url, "/api/decide", view("k-2"));
    await waitFor("one request in flight", () => server!.server!.decider.requestsInFlight === 1, 5_000, 5);
    expect((await post(url, "/api/decide", view("k-3"))).status).toBe(503);
    const retry = await post(url, "/api/decide", view("k-1"));
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect((await waiting).body).toEqual({ decision: null, reason: "timeout" });
  });

  it("answers a batch of events it could not store 503 with Retry-After, so a client sends it again", async () => {
    const { url } = await start({}, false);
    // The stream that takes the events is gone (removed by hand, NATS away): nothing can be stored.
    await (await jetstreamManager(nc!)).streams.delete("EVENTS");
    const r = await post(url, "/api/events", [view("u-1")]);
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(r.body.results[0]).toMatchObject({ id: "u-1", status: "rejected", reason: "unavailable" });
    const t = await post(url, "/api/track", { type: "track", event: "Product Viewed", messageId: "u-2", userId: "c-u", timestamp: new Date().toISOString(), properties: { product_id: "sku-001", category: "home", price: 30 } });
    expect(t.status).toBe(503);
  });

  it("keeps the token rules of the rest of the API, on a public bind", async () => {
    const { url } = await start({ server: { host: "0.0.0.0", token: "s3cret-0123456789abcdef" } }, false);
    expect((await post(url, "/api/decide", view("a-1"))).status).toBe(401);
    expect((await post(url, "/api/events", [view("a-1")])).status).toBe(401);
    expect((await post(url, "/api/track", { type: "track", event: "Product Viewed", messageId: "m-1", userId: "u" })).status).toBe(401);
    expect((await post(url, "/api/decide", view("a-1"), { authorization: "Bearer wrong" })).status).toBe(401);
    expect(await readStream(nc!, "EVENTS")).toEqual([]);
    const ok = await post(url, "/api/decide", view("a-1", { ts: Date.now() }), { authorization: "Bearer s3cret-0123456789abcdef" });
    expect(ok.status).toBe(200);
  });
});

describe("POST /api/events", { timeout: 60_000 }, () => {
  it("answers per event: accepted, duplicate, or rejected with its reason (and dead-lettered)", async () => {
    const { url } = await start({ server: { maxBatch: 5 } }, false);
    const now = Date.now();
    const r = await post(url, "/api/events", [
      view("e-1", { ts: now }),
      { type: "purchase", id: "e-2", ts: now, customerId: "c", totalCents: 1_000 },
      view("e-1", { ts: now }),
      { type: "view", id: "e-3", ts: now },
      { type: "sync", id: "e-4", ts: now, from: 0, arms: {} },
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 2, duplicate: 1, rejected: 2 });
    expect(r.body.results[0]).toEqual({ id: "e-1", status: "accepted" });
    expect(r.body.results[1]).toEqual({ id: "e-2", status: "accepted" });
    expect(r.body.results[2]).toEqual({ id: "e-1", status: "duplicate" });
    expect(r.body.results[3]).toMatchObject({ id: "e-3", status: "rejected", reason: "invalid" });
    expect(r.body.results[3].detail).toMatch(/customerId/);
    expect(r.body.results[4]).toMatchObject({ id: "e-4", status: "rejected", reason: "invalid" });
    expect((await readStream(nc!, "EVENTS")).map((m) => m.msgId)).toEqual(["e-1", "e-2"]);
    const dl = await waitFor("two dead letters", async () => {
      const all = (await readStream(nc!, "DEADLETTER")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter);
      return all.length >= 2 ? all : undefined;
    });
    expect(dl.map((x) => [x.eventId, x.reason, x.subject])).toEqual([
      ["e-3", "invalid", "http"],
      ["e-4", "invalid", "http"],
    ]);
    // Over the batch bound, or not an array: 400, nothing published.
    expect((await post(url, "/api/events", Array.from({ length: 6 }, (_, i) => view(`b-${i}`, { ts: now })))).status).toBe(400);
    expect((await post(url, "/api/events", view("b-9", { ts: now }))).status).toBe(400);
    expect((await readStream(nc!, "EVENTS")).length).toBe(2);
  });
});

describe("a batch sent again (a client's retry after no answer, or a 503)", { timeout: 60_000 }, () => {
  it("dead-letters and counts each refused event or call once, as the stream stores each accepted one once", async () => {
    const { url } = await start({}, false);
    const now = Date.now();
    const events = [view("r-1", { ts: now }), { type: "view", id: "r-2", ts: now }];
    const calls = { batch: [{ type: "track", event: "Product Added", messageId: "r-3", userId: "c-r", properties: { product_id: "sku-001" } }] };
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await post(url, "/api/events", events)).body).toMatchObject({ accepted: 1 - attempt, duplicate: attempt, rejected: 1 });
      expect((await post(url, "/api/track", calls)).body).toMatchObject({ rejected: 1 });
    }
    const dl = (await readStream(nc!, "DEADLETTER")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as DeadLetter);
    expect(dl.map((x) => [x.eventId, x.reason])).toEqual([
      ["r-2", "invalid"],
      ["r-3", "missing-price"],
    ]);
    const metrics = await (await fetch(new URL("/metrics", url))).text();
    expect(metrics.match(/^ps_dead_letters_total\{.*$/gm)?.sort()).toEqual(['ps_dead_letters_total{reason="invalid"} 1', 'ps_dead_letters_total{reason="missing-price"} 1']);
  });
});

describe("POST /api/track", { timeout: 60_000 }, () => {
  it("maps the shop's Segment calls to events, publishes them, counts what it ignored and dropped, and dead-letters what it refused", async () => {
    const { url } = await start({}, false);
    // Product Viewed's example properties from the Segment e-commerce spec v2
    // (https://segment.com/docs/connections/spec/ecommerce/v2/#product-viewed), in an HTTP API batch.
    const viewed = {
      type: "track",
      event: "Product Viewed",
      messageId: "seg-1",
      userId: "user-7",
      timestamp: new Date().toISOString(),
      properties: { product_id: "507f1f77bcf86cd799439011", sku: "G-32", category: "Games", name: "Monopoly: 3rd Edition", brand: "Hasbro", variant: "200 pieces", price: 18.99, quantity: 1, coupon: "MAYDEALS", currency: "usd", position: 3, value: 18.99, url: "https://www.example.com/product/path", image_url: "https://www.example.com/product/path.jpg" },
    };
    const batch = { batch: [viewed, { type: "identify", userId: "user-7", messageId: "seg-2" }, { type: "track", event: "Product Added", userId: "user-7", properties: { product_id: "x", price: 1 } }] };
    const r = await post(url, "/api/track", batch);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 1, duplicate: 0, rejected: 1, ignored: 1 });
    expect(r.body.results[0]).toMatchObject({ status: "mapped", eventId: "seg-1", type: "view", stored: "accepted" });
    expect(r.body.results[1]).toMatchObject({ status: "ignored", kind: "identify" });
    expect(r.body.results[2]).toMatchObject({ status: "rejected" });
    const [stored] = (await readStream(nc!, "EVENTS")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>);
    expect(stored).toMatchObject({ type: "view", id: "seg-1", customerId: "user-7", productId: "507f1f77bcf86cd799439011", category: "Games", priceCents: 1899 });
    // The same call again is a duplicate, not a second event.
    expect((await post(url, "/api/track", viewed)).body).toMatchObject({ accepted: 0, duplicate: 1 });
    const metrics = await (await fetch(new URL("/metrics", url))).text();
    expect(metrics).toMatch(/ps_track_ignored_total\{kind="identify"\} 1/);
    expect(metrics).toMatch(/ps_track_dropped_fields_total\{field="properties.brand"\} 2/);
    await waitFor("the refused call dead-lettered", async () => (await readStream(nc!, "DEADLETTER")).length === 1);
    expect((await post(url, "/api/track", [viewed])).status).toBe(400);
  });

  it("answers client.track() with each call's mapped, ignored or rejected result, as the client's TrackAnswer types them", async () => {
    const { url } = await start({}, false);
    const client = new PromoStreamClient({ baseUrl: url });
    const a: TrackAnswer = await client.track([
      { type: "track", event: "Product Clicked", messageId: "seg-t1", userId: "c-t", properties: { product_id: "sku-001", category: "home" } },
      { type: "page", messageId: "seg-t2", userId: "c-t" },
      { type: "track", event: "Product Added", messageId: "seg-t3", userId: "c-t", properties: { product_id: "sku-001" } },
    ]);
    expect(a).toMatchObject({ accepted: 1, duplicate: 0, rejected: 1, ignored: 1 });
    const [mapped, ignored, rejected] = a.results;
    // Narrowed by status as the type says: a mapped call's event and what became of it, an ignored call's kind, a refusal's reason.
    expect(mapped?.status === "mapped" && [mapped.eventId, mapped.type, mapped.stored]).toEqual(["seg-t1", "click", "accepted"]);
    expect(ignored?.status === "ignored" && ignored.kind).toBe("page");
    expect(rejected?.status === "rejected" && rejected.reason).toMatch(/price/);
  });
});
