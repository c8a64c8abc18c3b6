// POST /api/track's body → events and answers (issue 22), without a server. Payloads: the Segment
// e-commerce spec v2's Product Added example (https://segment.com/docs/connections/spec/ecommerce/v2/#product-added,
// its properties verbatim, in the HTTP API's track call shape with a messageId of ours) and the HTTP API's
// identify example (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#identify, writeKey left out).
import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, PS_ERR_SEGMENT } from "../events/index.ts";
import { trackBody } from "./index.ts";

const NOW = Date.UTC(2026, 2, 2, 8, 0, 0);
const PRODUCT_ADDED = {
  cart_id: "skdjsidjsdkdj29j",
  product_id: "507f1f77bcf86cd799439011",
  sku: "G-32",
  category: "Games",
  name: "Monopoly: 3rd Edition",
  brand: "Hasbro",
  variant: "200 pieces",
  price: 18.99,
  quantity: 1,
  coupon: "MAYDEALS",
  position: 3,
  url: "https://www.example.com/product/path",
  image_url: "https://www.example.com/product/path.jpg",
};
const added = (messageId: string, over: Record<string, unknown> = {}) => ({ type: "track", event: "Product Added", messageId, userId: "019mr8mf4r", properties: PRODUCT_ADDED, ...over });
const IDENTIFY = { type: "identify", userId: "019mr8mf4r", traits: { email: "pgibbons@example.com", name: "Peter Gibbons", industry: "Technology" }, context: { ip: "24.5.68.47" }, timestamp: "2012-12-02T00:30:08.276Z" };

describe("trackBody", () => {
  it("maps one call: one event to publish, stamped with the shop's time when it has no timestamp", () => {
    const r = trackBody(added("m-1"), NOW);
    if (!r.ok) throw new Error(r.error);
    expect(r.batch).toBe(false);
    expect(r.events).toEqual([{ type: "cart", id: "m-1", ts: NOW, customerId: "019mr8mf4r", productId: "507f1f77bcf86cd799439011", category: "Games", quantity: 1, priceCents: 1899 }]);
    expect(r.results).toEqual([{ index: 0, status: "mapped", messageId: "m-1", eventId: "m-1", type: "cart", eventIndex: 0, dropped: expect.arrayContaining(["properties.cart_id", "properties.name"]) }]);
    expect(r.mapped).toBe(1);
    expect(r.dropped["properties.brand"]).toBe(1);
  });

  it("answers a batch call by call, publishes only the mapped ones, and counts ignored kinds, rejections and dropped fields", () => {
    const r = trackBody({ batch: [IDENTIFY, added("m-1"), { type: "track", event: "Song Played", userId: "u" }, added("m-2", { userId: undefined }), added("m-3", { timestamp: "2012-12-02T00:30:12.984Z" })], context: { device: { type: "phone" } } }, NOW);
    if (!r.ok) throw new Error(r.error);
    expect(r.batch).toBe(true);
    expect(r.results.map((x) => [x.index, x.status])).toEqual([[0, "ignored"], [1, "mapped"], [2, "ignored"], [3, "rejected"], [4, "mapped"]]);
    expect(r.results[3]).toMatchObject({ messageId: "m-2", reason: PS_ERR_SEGMENT.MissingUserId });
    expect(r.events.map((e) => e.id)).toEqual(["m-1", "m-3"]);
    expect(r.results[4]).toMatchObject({ eventIndex: 1, eventId: "m-3" });
    expect(r.events[1]!.ts).toBe(Date.parse("2012-12-02T00:30:12.984Z"));
    expect({ mapped: r.mapped, ignored: r.ignored, rejected: r.rejected }).toEqual({ mapped: 2, ignored: { identify: 1, track: 1 }, rejected: { [PS_ERR_SEGMENT.MissingUserId]: 1 } });
    // Once per mapped call: the batch's context is merged into each.
    expect(r.dropped["context.*"]).toBe(2);
    expect(r.dropped["properties.cart_id"]).toBe(2);
    for (const e of r.events) expect(decodeEvent(encodeEvent(e), 16_384).ok).toBe(true);
  });

  it("maps a call repeated in a batch twice, under its one id: the stream keeps the first (Nats-Msg-Id)", () => {
    const r = trackBody({ batch: [added("m-1"), added("m-1")] }, NOW);
    expect(r.ok && r.events.map((e) => e.id)).toEqual(["m-1", "m-1"]);
  });

  it("passes maxEventBytes on: an event over it is rejected as oversized", () => {
    const r = trackBody(added("m-1"), NOW, { maxEventBytes: 64 });
    expect(r.ok && r.results[0]).toMatchObject({ status: "rejected", reason: "oversized" });
    expect(r.ok && r.events).toEqual([]);
  });

  it.each([
    ["an array", [added("m-1")], /one Segment call/],
    ["a string", "Product Added", /one Segment call/],
    ["null", null, /one Segment call/],
    ["a batch that is no array", { batch: { 0: added("m-1") } }, /batch must be an array/],
  ])("refuses %s as a body (400)", (_n, body, why) => {
    const r = trackBody(body, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it("refuses a batch over maxCalls, and takes an empty one", () => {
    const r = trackBody({ batch: [added("a"), added("b"), added("c")] }, NOW, { maxCalls: 2 });
    expect(r).toEqual({ ok: false, error: "a batch holds at most 2 calls, this one 3" });
    expect(trackBody({ batch: [] }, NOW)).toMatchObject({ ok: true, batch: true, results: [], events: [], mapped: 0 });
  });

  it("answers a single object that is no call with a rejection, not a 400 (Segment's own API answers 200 and drops it)", () => {
    const r = trackBody({ event: "Product Added" }, NOW);
    expect(r.ok && r.results).toEqual([{ index: 0, status: "rejected", reason: PS_ERR_SEGMENT.NotACall, detail: expect.stringContaining("type") }]);
  });
});
