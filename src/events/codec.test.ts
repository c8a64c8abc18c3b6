import { describe, expect, it } from "vitest";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { EventSchema } from "./schema.ts";
import { decodeEvent, encodeEvent, encodeOutcome, fnv1a32, isValidOutcome, partitionOf, PS_ERR_EVENT, Subjects, type OutcomeRecord, type ShopEvent } from "./index.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const ts = Date.parse("2026-03-02T08:00:00Z");

describe("decodeEvent", () => {
  const good: ShopEvent[] = [
    { type: "visit", id: "e1", ts, customerId: "c1", channel: "web" },
    { type: "send", id: "e2", ts, customerId: "c1", channel: "email", reason: "cart-abandoned" },
    { type: "view", id: "e3", ts, customerId: "c1", productId: "sku-001", category: "toys" },
    { type: "cart", id: "e4", ts, customerId: "c1", productId: "sku-001", quantity: 2, priceCents: 1999 },
    { type: "cart", id: "e4r", ts, customerId: "c1", productId: "sku-001", quantity: 1, priceCents: 1999, action: "remove" },
    { type: "purchase", id: "e5", ts, customerId: "c1", totalCents: 3998, items: [{ productId: "sku-001", quantity: 2, priceCents: 1999 }] },
    { type: "inventory", id: "e6", ts, productId: "sku-001", category: "toys", stock: 10, priceCents: 1999, costCents: 1200 },
  ];
  it.each(good)("round-trips a $type event", (e) => {
    const d = decodeEvent(encodeEvent(e), 16384);
    expect(d).toEqual({ ok: true, value: e });
  });

  const bad: [string, Uint8Array, string][] = [
    ["random bytes", new Uint8Array([0xff, 0xfe, 0x00, 0x41]), PS_ERR_EVENT.NotJson],
    ["invalid JSON", enc("{type: view"), PS_ERR_EVENT.NotJson],
    ["a JSON array", enc([1, 2]), PS_ERR_EVENT.Invalid],
    ["unknown type", enc({ type: "teleport", id: "x", ts, customerId: "c" }), PS_ERR_EVENT.UnknownType],
    ["missing customerId", enc({ type: "visit", id: "x", ts, channel: "web" }), PS_ERR_EVENT.Invalid],
    ["wrong type of ts", enc({ type: "visit", id: "x", ts: "yesterday", customerId: "c", channel: "web" }), PS_ERR_EVENT.Invalid],
    ["negative quantity", enc({ type: "cart", id: "x", ts, customerId: "c", productId: "p", quantity: -1, priceCents: 5 }), PS_ERR_EVENT.Invalid],
    ["negative price", enc({ type: "cart", id: "x", ts, customerId: "c", productId: "p", quantity: 1, priceCents: -5 }), PS_ERR_EVENT.Invalid],
    ["a cart action other than add or remove", enc({ type: "cart", id: "x", ts, customerId: "c", productId: "p", quantity: 1, priceCents: 5, action: "rm" }), PS_ERR_EVENT.Invalid],
    ["far-past timestamp", enc({ type: "visit", id: "x", ts: 1000, customerId: "c", channel: "web" }), PS_ERR_EVENT.Invalid],
    ["unknown field", enc({ type: "visit", id: "x", ts, customerId: "c", channel: "web", extra: 1 }), PS_ERR_EVENT.Invalid],
    ["oversized", enc({ type: "visit", id: "x", ts, customerId: "c".repeat(100), channel: "web" }), PS_ERR_EVENT.Oversized],
  ];
  it.each(bad)("%s → %s", (_n, data, reason) => {
    const d = decodeEvent(data, 120);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reason).toBe(reason);
      expect(d.detail.length).toBeGreaterThan(0);
    }
  });
});

describe("decodeEvent of a range of a buffer", () => {
  const e: ShopEvent = { type: "view", id: "e3", ts, customerId: "cü✓", productId: "sku-001", category: "Spielwaren für Kinder" };
  it("reads the bytes from start to end, ASCII or not, as the whole buffer would be", () => {
    for (const ev of [e, { ...e, customerId: "c1", category: "toys" }]) {
      const json = encodeEvent(ev);
      const framed = new Uint8Array([...enc("NATS/1.0\r\n\r\n"), ...json, 13, 10]);
      expect(decodeEvent(framed, 16384, 12, 12 + json.length)).toEqual({ ok: true, value: ev });
      expect(decodeEvent(framed, json.length - 1, 12, 12 + json.length)).toMatchObject({ ok: false, reason: PS_ERR_EVENT.Oversized });
    }
  });
  it("refuses bytes that are not UTF-8 as before (not JSON), and says what JSON.parse says", () => {
    const bad = new Uint8Array([123, 34, 97, 34, 58, 34, 0xff, 34, 125]);
    expect(decodeEvent(bad, 100)).toMatchObject({ ok: false, reason: PS_ERR_EVENT.NotJson });
    const notJson = decodeEvent(enc("{not json"), 100);
    let message = "";
    try {
      JSON.parse("{not json");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(notJson).toEqual({ ok: false, reason: PS_ERR_EVENT.NotJson, detail: message });
  });
});

describe("outcome records", () => {
  const o: OutcomeRecord = {
    id: "o-d-e1", decisionId: "d-e1", eventId: "e1", customerId: "c1", channel: "web", point: "product-view", productId: "sku-001",
    promotionId: "amt5-home", segment: "new|browser|full-price", holdout: false, propensity: 0.61,
    openedAt: ts, closedAt: ts + 60_000, closedBy: "redeemed", revenueCents: 2500, marginCents: 700, discountCents: 500, reward: 1, learned: true,
  };
  it("encode to JSON that is valid against the contract", () => {
    const back = JSON.parse(new TextDecoder().decode(encodeOutcome(o))) as unknown;
    expect(back).toEqual(o);
    expect(isValidOutcome(back)).toBe(true);
  });
  it.each([
    ["an unknown field", { ...o, extra: 1 }],
    ["an unknown way to close", { ...o, closedBy: "cancelled" }],
    ["a propensity of 0", { ...o, propensity: 0 }],
    ["a fractional cent", { ...o, revenueCents: 1.5 }],
  ])("are invalid with %s", (_n, bad) => expect(isValidOutcome(bad)).toBe(false));
});

describe("subjects", () => {
  it("match DESIGN.md with the default (empty) prefix", () => {
    const s = new Subjects();
    expect(s.event("view", 3)).toBe("events.view.3");
    expect(s.inventory("sku-001")).toBe("events.inventory.sku-001");
    expect(s.decision("email")).toBe("decisions.email");
    expect(s.outcome("email")).toBe("outcomes.email");
    expect(s.outcomesAll).toBe("outcomes.>");
    expect(new Subjects("shop1.").outcome("web")).toBe("shop1.outcomes.web");
    expect(s.deadletter).toBe("deadletter.events");
    expect(s.simControl).toBe("sim.control");
    expect(s.simTruth).toBe("sim.truth");
    expect(s.typeOf("events.purchase.7")).toBe("purchase");
    expect(s.typeOf("events.inventory")).toBe("inventory");
    expect(s.typeOf("decisions.web")).toBeUndefined();
    expect(new Subjects("shop1.").typeOf("shop1.events.cart.2")).toBe("cart");
    expect(new Subjects("shop1.").typeOf("events.cart.2")).toBeUndefined();
    // isOfType(subject, type) is typeOf(subject) === type, without cutting the type out.
    for (const [prefix, subject] of [["", "events.purchase.7"], ["", "events.inventory"], ["", "events.inventory.sku-1"], ["", "decisions.web"], ["", "events.purchased.1"], ["", "events.purchase"], ["shop1.", "shop1.events.cart.2"], ["shop1.", "events.cart.2"]] as const)
      for (const type of ["purchase", "inventory", "cart", "view"]) expect(new Subjects(prefix).isOfType(subject, type)).toBe(new Subjects(prefix).typeOf(subject) === type);
  });
  it("puts a customer in one stable partition", () => {
    // FNV-1a 32 test vectors (Fowler/Noll/Vo): other producers must compute the same partition.
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    // Non-ASCII ids hash their UTF-8 bytes, as any other producer would.
    expect(fnv1a32("café")).toBe(0xa82b5049);
    expect(fnv1a32("客户-1")).toBe(0x05601f71);
    expect(partitionOf("foobar", 8)).toBe(0xbf9cf968 % 8);
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`c${i}`, 8)]++;
    // Tolerance: each of 8 partitions gets 1000 ± 20% of 8000 customers.
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });
});
