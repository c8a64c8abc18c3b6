// Runtime promotions through the log (issue 15): a change asked for on promo.control becomes promotion
// events in EVENTS, one per partition, applied by the engine in order with the shop's events; a bad one
// (by the configuration's own rules) is refused with its reason, in the reply and in DEADLETTER, and
// changes nothing. A bad promotion event written into EVENTS directly is dead-lettered at decode.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ConfigError, loadConfig, type Config } from "../../src/config/index.ts";
import { encodeEvent, PS_ERR_EVENT, Subjects, type PromotionConfig } from "../../src/events/index.ts";
import type { DeadLetter } from "../../src/io/nats/index.ts";
import type { PromoControlReply } from "../../src/processor/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const subjects = new Subjects();

let server: NatsServerHandle;
let sys: Running;
let nc: NatsConnection;
let cfg: Readonly<Config>;

const good: PromotionConfig = { id: "flash-beauty", name: "Flash: 15% off beauty", kind: "percent", percentOff: 15, category: "beauty", channels: ["web"], budgetCents: 100_000, maxDiscountCents: 1500 };
/** Valid by the schema; wrong by the rules across fields. */
const noPercent = { ...good, id: "no-percent", percentOff: undefined };
const endsFirst = { ...good, id: "ends-first", startsAt: "2026-03-02T10:00:00Z", endsAt: "2026-03-02T09:00:00Z" };

async function ask(body: unknown): Promise<PromoControlReply> {
  const data = typeof body === "string" ? enc.encode(body) : enc.encode(JSON.stringify(body));
  const r = await nc.request(subjects.promoControl, data, { timeout: 10_000 });
  return r.json<PromoControlReply>();
}

async function deadLetters(): Promise<DeadLetter[]> {
  return (await readStream(nc, cfg.streams.deadletter.name)).map((m) => JSON.parse(dec.decode(m.data)) as DeadLetter);
}

async function promotionEvents(): Promise<string[]> {
  return (await readStream(nc, cfg.streams.events.name)).filter((m) => m.subject.startsWith("events.promotion.")).map((m) => m.subject);
}

beforeAll(async () => {
  server = await jetstreamServer();
  cfg = testConfig(server.url, { partitions: 4 });
  sys = await startParts("processor", cfg);
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
});

describe("promo.control", () => {
  it("stores a change as one promotion event per partition, which the engine then applies", async () => {
    const r = await ask({ op: "upsert", promotion: good });
    expect(r).toMatchObject({ ok: true, events: 4 });
    expect((await promotionEvents()).sort()).toEqual(["events.promotion.0", "events.promotion.1", "events.promotion.2", "events.promotion.3"]);
    await waitFor("the engine to apply it", () => sys.processor!.engine.promotions.has(good.id));
    expect(sys.processor!.engine.promotions.get(good.id)).toMatchObject({ percentOff: 15, budgetCents: 100_000 });
    expect(await ask({ op: "list" })).toEqual({ ok: true, promotions: expect.arrayContaining([good.id, ...cfg.promotions.map((p) => p.id)]) });
    // A change of it (a new budget) goes the same way.
    expect(await ask({ op: "upsert", promotion: { ...good, budgetCents: 50_000 } })).toMatchObject({ ok: true });
    await waitFor("the change applied", () => sys.processor!.engine.promotions.get(good.id)?.budgetCents === 50_000);
  });

  it.each([
    ["a percent promotion without percentOff", { op: "upsert", promotion: noPercent }, PS_ERR_EVENT.Invalid, /percentOff: kind 'percent' needs percentOff/],
    ["an end before its start", { op: "upsert", promotion: endsFirst }, PS_ERR_EVENT.Invalid, /endsAt: endsAt is not after startsAt/],
    ["the reserved id", { op: "upsert", promotion: { ...good, id: "control" } }, PS_ERR_EVENT.Invalid, /'control' is reserved/],
    ["a schema violation", { op: "upsert", promotion: { ...good, id: "bad-channel", channels: ["fax"] } }, PS_ERR_EVENT.Invalid, /channels/],
    ["an unknown op", { op: "delete", promotion: good }, PS_ERR_EVENT.Invalid, /op must be/],
    // Every problem at once, each with its fix, as start-up reports a promotion of the configuration: the
    // reply named only the first, as a JSON pointer without a fix ("/promotion/name: Expected required
    // property"), so a budget edit sent alone took five requests to learn that an upsert carries the whole promotion.
    [
      "a budget edit without the rest of the promotion",
      { op: "upsert", promotion: { id: "pct10-electronics", budgetCents: 5000, maxDiscountCents: 0 } },
      PS_ERR_EVENT.Invalid,
      /^promotion\.name: missing \(an upsert carries the whole promotion\); fix: set name to a label for people; promotion\.kind: missing; .*promotion\.channels: missing; .*promotion\.maxDiscountCents: expected integer to be greater or equal to 1, got 0; fix: set maxDiscountCents to the most one redemption/,
    ],

    ["a request that is not JSON", "{not json", PS_ERR_EVENT.NotJson, /not JSON/],
  ])("refuses %s with the reason, dead-letters it, and changes nothing", async (_what, body, reason, why) => {
    const eventsBefore = (await promotionEvents()).length;
    const dlBefore = (await deadLetters()).length;
    const promotionsBefore = [...sys.processor!.engine.promotions.keys()];
    const r = await ask(body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.error).toMatch(why);
    const dl = await waitFor("its dead letter", async () => {
      const all = await deadLetters();
      return all.length > dlBefore ? all[all.length - 1] : undefined;
    });
    expect(dl).toMatchObject({ reason, subject: "promo.control" });
    expect(dl.detail).toMatch(why);
    expect(dec.decode(Buffer.from(dl.payloadBase64, "base64"))).toBe(typeof body === "string" ? body : JSON.stringify(body));
    expect(await promotionEvents()).toHaveLength(eventsBefore);
    expect([...sys.processor!.engine.promotions.keys()]).toEqual(promotionsBefore);
  });

  it("refuses at start-up what it refuses at runtime: the same rules, the same words", () => {
    const bad = (p: unknown) => {
      try {
        loadConfig({ env: {}, overrides: { promotions: [p] } });
      } catch (err) {
        return (err as ConfigError).issues.map((i) => `${i.key}: ${i.problem}`).join("\n");
      }
      return "";
    };
    expect(bad(noPercent)).toContain("promotions[0].percentOff: kind 'percent' needs percentOff");
    expect(bad(endsFirst)).toContain("promotions[0].endsAt: endsAt is not after startsAt");
    expect(() => loadConfig({ env: {}, overrides: { promotions: [noPercent] } })).toThrow(ConfigError);
  });
});

describe("a promotion event written into EVENTS directly", () => {
  it("is decoded by the same rules: a bad one is dead-lettered with its reason and applied nowhere", async () => {
    const jsm = await jetstreamManager(nc);
    const dlBefore = (await deadLetters()).length;
    const ev = { type: "promotion" as const, id: "direct-1.p0", ts: Date.now(), promotion: noPercent as PromotionConfig };
    await (await import("@nats-io/jetstream")).jetstream(nc).publish("events.promotion.0", encodeEvent(ev), { msgID: ev.id });
    const dl = await waitFor("its dead letter", async () => (await deadLetters()).slice(dlBefore).find((d) => d.eventId === null && d.subject === "events.promotion.0"));
    expect(dl.reason).toBe(PS_ERR_EVENT.Invalid);
    expect(dl.detail).toMatch(/percentOff: kind 'percent' needs percentOff/);
    expect(sys.processor!.engine.promotions.has(noPercent.id)).toBe(false);
    expect((await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).num_pending).toBe(0);
  });
});
