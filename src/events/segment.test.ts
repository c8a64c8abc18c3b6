// Segment e-commerce spec v2 calls → our events (issue 22). The payloads are the spec's documented
// examples, each marked with where it comes from. The v2 page prints its examples as
// `analytics.track('<Event>', {…properties…})`: their properties are copied verbatim, and the call
// around them is the HTTP API's track call (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#track:
// its example's userId "019mr8mf4r" and timestamp "2012-12-02T00:30:12.984Z") with a messageId of ours,
// which the HTTP API docs say every call carries.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEvent,
  dollarsToCents,
  encodeEvent,
  mapSegment,
  mapSegmentCall,
  parseIsoTime,
  PS_ERR_EVENT,
  PS_ERR_SEGMENT,
  SEGMENT_MAPPED_EVENTS,
  tallySegment,
  type SegmentResult,
} from "./index.ts";

const NOW = Date.UTC(2026, 2, 2, 8, 0, 0);
const TS = Date.parse("2012-12-02T00:30:12.984Z");
const USER = "019mr8mf4r";

let seq = 0;
/** The HTTP API's track call around a v2 example's properties. */
const track = (event: string, properties: unknown, over: Record<string, unknown> = {}) => ({
  type: "track",
  event,
  messageId: `msg-${++seq}`,
  userId: USER,
  timestamp: "2012-12-02T00:30:12.984Z",
  properties,
  ...over,
});
const mapped = (r: SegmentResult) => {
  expect(r.status, JSON.stringify(r)).toBe("mapped");
  return r as Extract<SegmentResult, { status: "mapped" }>;
};
const rejected = (r: SegmentResult) => {
  expect(r.status, JSON.stringify(r)).toBe("rejected");
  return r as Extract<SegmentResult, { status: "rejected" }>;
};

// https://segment.com/docs/connections/spec/ecommerce/v2/#product-viewed (Example)
const PRODUCT_VIEWED = {
  product_id: "507f1f77bcf86cd799439011",
  sku: "G-32",
  category: "Games",
  name: "Monopoly: 3rd Edition",
  brand: "Hasbro",
  variant: "200 pieces",
  price: 18.99,
  quantity: 1,
  coupon: "MAYDEALS",
  currency: "usd",
  position: 3,
  value: 18.99,
  url: "https://www.example.com/product/path",
  image_url: "https://www.example.com/product/path.jpg",
};
// https://segment.com/docs/connections/spec/ecommerce/v2/#product-clicked (Example)
const PRODUCT_CLICKED = {
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
// https://segment.com/docs/connections/spec/ecommerce/v2/#product-list-viewed (Example)
const PRODUCT_LIST_VIEWED = {
  list_id: "hot_deals_1",
  category: "Deals",
  products: [
    { product_id: "507f1f77bcf86cd799439011", sku: "45790-32", name: "Monopoly: 3rd Edition", price: 19, position: 1, category: "Games", url: "https://www.example.com/product/path", image_url: "https://www.example.com/product/path.jpg" },
    { product_id: "505bd76785ebb509fc183733", sku: "46493-32", name: "Uno Card Game", price: 3, position: 2, category: "Games" },
  ],
};
// https://segment.com/docs/connections/spec/ecommerce/v2/#product-added (Example)
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
// https://segment.com/docs/connections/spec/ecommerce/v2/#product-removed (Example)
const PRODUCT_REMOVED = {
  cart_id: "ksjdj92dj29dj92d2j",
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
// https://segment.com/docs/connections/spec/ecommerce/v2/#cart-viewed (Example)
const CART_VIEWED = {
  cart_id: "d92jd29jd92jd29j92d92jd",
  products: [
    { product_id: "507f1f77bcf86cd799439011", sku: "45790-32", name: "Monopoly: 3rd Edition", price: 19, position: 1, category: "Games", url: "https://www.example.com/product/path", image_url: "https://www.example.com/product/path.jpg" },
    { product_id: "505bd76785ebb509fc183733", sku: "46493-32", name: "Uno Card Game", price: 3, position: 2, category: "Games" },
  ],
};
// https://segment.com/docs/connections/spec/ecommerce/v2/#checkout-started (Example)
const CHECKOUT_STARTED = {
  order_id: "50314b8e9bcf000000000000",
  affiliation: "Google Store",
  value: 30,
  revenue: 25.0,
  shipping: 3,
  tax: 2,
  discount: 2.5,
  coupon: "hasbros",
  currency: "USD",
  products: [
    { product_id: "507f1f77bcf86cd799439011", sku: "45790-32", name: "Monopoly: 3rd Edition", price: 19, quantity: 1, category: "Games", url: "https://www.example.com/product/path", image_url: "https://www.example.com/product/path.jpg" },
    { product_id: "505bd76785ebb509fc183733", sku: "46493-32", name: "Uno Card Game", price: 3, quantity: 2, category: "Games" },
  ],
};
// https://segment.com/docs/connections/spec/ecommerce/v2/#order-completed (Example; its image_url's three slashes are the spec's)
const ORDER_COMPLETED = {
  checkout_id: "fksdjfsdjfisjf9sdfjsd9f",
  order_id: "50314b8e9bcf000000000000",
  affiliation: "Google Store",
  total: 27.5,
  subtotal: 22.5,
  revenue: 25.0,
  shipping: 3,
  tax: 2,
  discount: 2.5,
  coupon: "hasbros",
  currency: "USD",
  products: [
    { product_id: "507f1f77bcf86cd799439011", sku: "45790-32", name: "Monopoly: 3rd Edition", price: 19, quantity: 1, category: "Games", url: "https://www.example.com/product/path", image_url: "https:///www.example.com/product/path.jpg" },
    { product_id: "505bd76785ebb509fc183733", sku: "46493-32", name: "Uno Card Game", price: 3, quantity: 2, category: "Games" },
  ],
};
// https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#batch (the request body, verbatim;
// its "2015-2-02…" timestamps are the docs' own)
const HTTP_BATCH = {
  batch: [
    { type: "identify", userId: "019mr8mf4r", traits: { email: "jake@yahoo.com", name: "Jake Peterson", age: 26 }, timestamp: "2012-12-02T00:30:08.276Z" },
    { type: "track", userId: "019mr8mf4r", event: "Song Played", properties: { name: "Fallin for You", artist: "Dierks Bentley" }, timestamp: "2012-12-02T00:30:12.984Z" },
    { type: "identify", userId: "971mj8mk7p", traits: { email: "cindy@example.com", name: "Cindy Gonzalez", age: 23 }, timestamp: "2015-2-02T00:30:08.276Z" },
    { type: "track", userId: "971mj8mk7p", event: "Song Played", properties: { name: "Get Right", artist: "Jennifer Lopez" }, timestamp: "2015-2-02T00:30:12.984Z" },
  ],
  writeKey: "YOUR_WRITE_KEY",
  context: { device: { type: "phone", name: "Apple iPhone 6" } },
};

const base = (id: string) => ({ id, ts: TS, customerId: USER });

describe("Segment e-commerce spec v2 examples → events", () => {
  it("Product Viewed → a view of the product with its price in cents; name, brand, variant, url, … dropped", () => {
    const call = track("Product Viewed", PRODUCT_VIEWED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "view", ...base(call.messageId), productId: "507f1f77bcf86cd799439011", category: "Games", priceCents: 1899 });
    expect(r.dropped).toEqual([
      "properties.brand", "properties.coupon", "properties.currency", "properties.image_url", "properties.name", "properties.position",
      "properties.quantity", "properties.sku", "properties.url", "properties.value", "properties.variant",
    ]);
  });

  it("Product Clicked → a click on the product (a click holds no price: dropped)", () => {
    const call = track("Product Clicked", PRODUCT_CLICKED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "click", ...base(call.messageId), productId: "507f1f77bcf86cd799439011", category: "Games" });
    expect(r.dropped).toContain("properties.price");
    expect(r.dropped).toContain("properties.quantity");
  });

  it("Product List Viewed → a view of its category, no product; its products dropped", () => {
    const call = track("Product List Viewed", PRODUCT_LIST_VIEWED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "view", ...base(call.messageId), category: "Deals" });
    expect(r.dropped).toEqual(["properties.list_id", "properties.products"]);
  });

  it("Product Added → a cart line (quantity, price in cents); cart_id and the product's descriptions dropped", () => {
    const call = track("Product Added", PRODUCT_ADDED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "cart", ...base(call.messageId), productId: "507f1f77bcf86cd799439011", category: "Games", quantity: 1, priceCents: 1899 });
    expect(r.dropped).toEqual([
      "properties.brand", "properties.cart_id", "properties.coupon", "properties.image_url", "properties.name", "properties.position", "properties.sku", "properties.url", "properties.variant",
    ]);
  });

  it("Product Removed → the same cart line with action remove", () => {
    const call = track("Product Removed", PRODUCT_REMOVED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "cart", ...base(call.messageId), productId: "507f1f77bcf86cd799439011", category: "Games", quantity: 1, priceCents: 1899, action: "remove" });
    expect(r.dropped).toContain("properties.cart_id");
  });

  it("Cart Viewed → a view with no product (the cart page); cart_id and products[] dropped", () => {
    const call = track("Cart Viewed", CART_VIEWED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "view", ...base(call.messageId) });
    expect(r.dropped).toEqual(["properties.cart_id", "properties.products"]);
  });

  it("Checkout Started → a view with no product (the checkout page); the order's fields all dropped", () => {
    const call = track("Checkout Started", CHECKOUT_STARTED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({ type: "view", ...base(call.messageId) });
    expect(r.dropped).toEqual([
      "properties.affiliation", "properties.coupon", "properties.currency", "properties.discount", "properties.order_id", "properties.products",
      "properties.revenue", "properties.shipping", "properties.tax", "properties.value",
    ]);
  });

  it("Order Completed → a purchase: items from products[], subtotal as the total after discount, discount, coupon as the promotion", () => {
    const call = track("Order Completed", ORDER_COMPLETED);
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event).toEqual({
      type: "purchase",
      ...base(call.messageId),
      // The example's subtotal 22.50 is its products (19 + 2 × 3) less the discount 2.50: what totalCents means.
      totalCents: 2250,
      items: [
        { productId: "507f1f77bcf86cd799439011", category: "Games", quantity: 1, priceCents: 1900 },
        { productId: "505bd76785ebb509fc183733", category: "Games", quantity: 2, priceCents: 300 },
      ],
      discountCents: 250,
      promotionId: "hasbros",
    });
    expect(r.dropped).toEqual([
      "properties.affiliation", "properties.checkout_id", "properties.currency", "properties.order_id",
      "properties.products[].image_url", "properties.products[].name", "properties.products[].sku", "properties.products[].url",
      "properties.revenue", "properties.shipping", "properties.tax", "properties.total",
    ]);
  });

  it("Order Completed without subtotal takes revenue, then total, as sent; decision_id (our extension) → decisionId", () => {
    const { subtotal: _s, ...noSubtotal } = ORDER_COMPLETED;
    expect(mapped(mapSegmentCall(track("Order Completed", noSubtotal), NOW)).event).toMatchObject({ totalCents: 2500 });
    const { revenue: _r, ...onlyTotal } = noSubtotal;
    expect(mapped(mapSegmentCall(track("Order Completed", onlyTotal), NOW)).event).toMatchObject({ totalCents: 2750 });
    const r = mapped(mapSegmentCall(track("Order Completed", { ...ORDER_COMPLETED, coupon: "pct10-electronics", decision_id: "d-s7ttb9i80-96824" }), NOW));
    expect(r.event).toMatchObject({ promotionId: "pct10-electronics", decisionId: "d-s7ttb9i80-96824" });
    expect(r.dropped).not.toContain("properties.decision_id");
    // No products: a purchase with its total only.
    const bare = mapped(mapSegmentCall(track("Order Completed", { order_id: "o1", total: 30 }), NOW));
    expect(bare.event).toEqual({ type: "purchase", ...base(bare.messageId), totalCents: 3000 });
  });

  it("ignores the HTTP API's batch example (identify, and a track event not mapped) and counts it by kind", () => {
    const results = mapSegment(HTTP_BATCH, NOW);
    expect(results).toEqual([
      { status: "ignored", kind: "identify" },
      { status: "ignored", kind: "track", name: "Song Played" },
      { status: "ignored", kind: "identify" },
      { status: "ignored", kind: "track", name: "Song Played" },
    ]);
    expect(tallySegment(results)).toEqual({ mapped: 0, ignored: { identify: 2, track: 2 }, rejected: {}, dropped: {} });
  });

  it("ignores the HTTP API's page, screen, group and alias examples", () => {
    // https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#page, #screen, #group, #alias
    // (each posted to its own route, so `type` is the route's, as a batch would carry it; writeKey left out).
    const calls = [
      { type: "page", userId: "019mr8mf4r", name: "Tracking HTTP API", timestamp: "2012-12-02T00:31:29.738Z" },
      { type: "screen", userId: "019mr8mf4r", name: "Tracking HTTP API", timestamp: "2012-12-02T00:31:29.738Z" },
      { type: "group", userId: "019mr8mf4r", groupId: "8e9df332ac", traits: { name: "Initech", industry: "Technology", employees: 420 }, timestamp: "2012-12-02T00:31:38.208Z" },
      { type: "alias", previousId: "39239-239239-239239-23923", userId: "019mr8mf4r", timestamp: "2012-12-02T00:31:29.738Z" },
    ];
    expect(calls.map((c) => mapSegmentCall(c, NOW))).toEqual(["page", "screen", "group", "alias"].map((kind) => ({ status: "ignored", kind })));
  });

  it("maps a batch call by call, in order, with the batch's context reported dropped on each mapped call", () => {
    const calls = [track("Product Viewed", PRODUCT_VIEWED), { type: "identify", userId: USER, messageId: "i-1" }, track("Product Added", PRODUCT_ADDED, { messageId: "" })];
    const results = mapSegment({ batch: calls, context: { ip: "24.5.68.47" } }, NOW);
    expect(results.map((r) => r.status)).toEqual(["mapped", "ignored", "rejected"]);
    expect(mapped(results[0]!).dropped).toContain("context.*");
    expect(results[1]).toEqual({ status: "ignored", kind: "identify", messageId: "i-1" });
    expect(rejected(results[2]!).reason).toBe(PS_ERR_SEGMENT.MissingMessageId);
    const t = tallySegment(results);
    expect(t).toMatchObject({ mapped: 1, ignored: { identify: 1 }, rejected: { [PS_ERR_SEGMENT.MissingMessageId]: 1 } });
    expect(t.dropped["context.*"]).toBe(1);
  });
});

describe("Segment calls: the rules every call follows", () => {
  it("takes userId, else anonymousId, as the customer; the other id is dropped", () => {
    const both = mapped(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { anonymousId: "507f191e810c19729de860ea" }), NOW));
    expect(both.event.customerId).toBe(USER);
    expect(both.dropped).toEqual(["anonymousId"]);
    const anon = mapped(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { userId: null, anonymousId: "507f191e810c19729de860ea" }), NOW));
    expect(anon.event).toMatchObject({ customerId: "507f191e810c19729de860ea", productId: "G-32" });
    expect(anon.dropped).toEqual([]);
    // A whole-number id is its digits.
    expect(mapped(mapSegmentCall(track("Product Viewed", { product_id: 9714107479 }, { userId: 42 }), NOW)).event).toMatchObject({ customerId: "42", productId: "9714107479" });
  });

  it("stamps a call without a timestamp with nowMs, reads one with an offset, and reports Segment's other fields as dropped", () => {
    const r = mapped(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { timestamp: undefined, sentAt: "2012-12-02T00:30:13.000Z", context: { ip: "1.2.3.4" }, integrations: { All: true }, custom: 1 }), NOW + 0.7));
    expect(r.event.ts).toBe(NOW);
    expect(r.dropped).toEqual(["*", "context.*", "integrations.*", "sentAt"]);
    expect(mapped(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { timestamp: "2012-12-02T01:30:12.984+01:00" }), NOW)).event.ts).toBe(TS);
    expect(rejected(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { timestamp: undefined }), NOW, { requireTimestamp: true })).reason).toBe(PS_ERR_SEGMENT.MissingTimestamp);
  });

  it("corrects a device's clock as Segment does when the call carries sentAt beside its timestamp: the shop's time on arrival less the call's age", () => {
    // A phone 10 minutes ahead, the view 3 s before its batch was sent (Segment's browser and mobile
    // libraries send both fields; Segment's own API takes receivedAt - (sentAt - timestamp)).
    const ahead = 600_000;
    const call = track("Product Viewed", { sku: "G-32" }, { timestamp: new Date(NOW + ahead - 3_000).toISOString(), sentAt: new Date(NOW + ahead).toISOString() });
    const r = mapped(mapSegmentCall(call, NOW));
    expect(r.event.ts).toBe(NOW - 3_000);
    expect(r.dropped).toEqual([]);
    // A call Segment has processed already (a webhook's, an export's) carries its corrected timestamp.
    const processed = mapped(mapSegmentCall(track("Product Viewed", { sku: "G-32" }, { originalTimestamp: "2012-12-02T00:40:12.984Z", sentAt: "2012-12-02T00:40:13.000Z", receivedAt: "2012-12-02T00:30:13.100Z" }), NOW));
    expect(processed.event.ts).toBe(TS);
    expect(processed.dropped).toEqual(["originalTimestamp", "receivedAt", "sentAt"]);
    // A replayed log has no present to correct against: its timestamps as written.
    expect(mapped(mapSegmentCall(call, NOW, { requireTimestamp: true })).event.ts).toBe(NOW + ahead - 3_000);
  });

  it("takes a batch's sentAt for its calls (analytics.js's batching sends one for the batch, none on the calls)", () => {
    const ahead = 600_000;
    const call = track("Product Viewed", { sku: "G-32" }, { timestamp: new Date(NOW + ahead - 3_000).toISOString() });
    const [r] = mapSegment({ batch: [call], sentAt: new Date(NOW + ahead).toISOString(), writeKey: "k" }, NOW);
    expect(mapped(r!).event.ts).toBe(NOW - 3_000);
    // The call's own sentAt, when it has one, is its own.
    const [own] = mapSegment({ batch: [{ ...call, sentAt: new Date(NOW + ahead - 1_000).toISOString() }], sentAt: new Date(NOW + ahead).toISOString() }, NOW);
    expect(mapped(own!).event.ts).toBe(NOW - 2_000);
  });

  it("reads an order's products: null as no products: a purchase without items, which the contract allows", () => {
    // Segment's libraries send unset properties as null. The order was paid (its total is there); refusing
    // it for an optional field would lose the purchase and its credit to the offer.
    for (const products of [null, undefined]) {
      const r = mapped(mapSegmentCall(track("Order Completed", { order_id: "o-1", subtotal: 22.5, coupon: "pct10-electronics", products }), NOW));
      expect(r.event).toEqual({ type: "purchase", ...base(r.messageId), totalCents: 2250, promotionId: "pct10-electronics" });
      expect(r.dropped).toEqual(["properties.order_id"]);
    }
  });

  it("names custom properties and product fields as * (the names stay bounded), and drops nothing that is null or empty", () => {
    const r = mapped(mapSegmentCall(track("Order Completed", { total: 10, color: "red", size: null, coupon: "", products: [{ sku: "a", price: 10, colour: "red" }] }), NOW));
    expect(r.event).not.toHaveProperty("promotionId");
    expect(r.dropped).toEqual(["properties.*", "properties.products[].*"]);
  });

  const rejects: [string, unknown, string, RegExp][] = [
    ["a string", "Product Viewed", PS_ERR_SEGMENT.NotACall, /not an object/],
    ["no type (v1's 'action' form)", { action: "track", event: "Product Viewed", userId: USER, properties: PRODUCT_VIEWED }, PS_ERR_SEGMENT.NotACall, /type undefined/],
    ["an unknown method", { type: "teleport", userId: USER }, PS_ERR_SEGMENT.NotACall, /"teleport"/],
    ["a track call without an event", { type: "track", messageId: "m", userId: USER }, PS_ERR_SEGMENT.MissingEvent, /event name/],
    ["no messageId", track("Product Viewed", PRODUCT_VIEWED, { messageId: undefined }), PS_ERR_SEGMENT.MissingMessageId, /messageId is absent/],
    ["a messageId the id pattern refuses", track("Product Viewed", PRODUCT_VIEWED, { messageId: "msg 1" }), PS_ERR_SEGMENT.BadMessageId, /"msg 1"/],
    ["a messageId too long", track("Product Viewed", PRODUCT_VIEWED, { messageId: "m".repeat(129) }), PS_ERR_SEGMENT.BadMessageId, /at most 128/],
    ["neither userId nor anonymousId", track("Product Viewed", PRODUCT_VIEWED, { userId: undefined }), PS_ERR_SEGMENT.MissingUserId, /both absent/],
    ["a userId that is an object", track("Product Viewed", PRODUCT_VIEWED, { userId: { id: 1 } }), PS_ERR_SEGMENT.BadUserId, /userId/],
    ["a product view without product", track("Product Viewed", { name: "Monopoly" }), PS_ERR_SEGMENT.MissingProduct, /product_id and properties.sku/],
    ["a product id the pattern refuses", track("Product Added", { ...PRODUCT_ADDED, product_id: "507f/1" }), PS_ERR_SEGMENT.BadProductId, /properties.product_id "507f\/1"/],
    ["a cart line without price", track("Product Added", { product_id: "p1" }), PS_ERR_SEGMENT.MissingPrice, /properties.price is absent/],
    ["a negative price", track("Product Removed", { ...PRODUCT_REMOVED, price: -18.99 }), PS_ERR_SEGMENT.BadAmount, /-18.99/],
    ["NaN as a price", track("Product Viewed", { ...PRODUCT_VIEWED, price: Number.NaN }), PS_ERR_SEGMENT.BadAmount, /price/],
    ["a price as a string", track("Product Added", { ...PRODUCT_ADDED, price: "18.99" }), PS_ERR_SEGMENT.BadAmount, /"18.99"/],
    ["a quantity of 0", track("Product Added", { ...PRODUCT_ADDED, quantity: 0 }), PS_ERR_SEGMENT.BadQuantity, /quantity 0/],
    ["a fractional quantity", track("Product Added", { ...PRODUCT_ADDED, quantity: 1.5 }), PS_ERR_SEGMENT.BadQuantity, /1.5/],
    ["a timestamp without a zone", track("Product Viewed", PRODUCT_VIEWED, { timestamp: "2012-12-02T00:30:12" }), PS_ERR_SEGMENT.BadTimestamp, /with a zone/],
    ["the batch example's 2015-2-02", track("Product Viewed", PRODUCT_VIEWED, { timestamp: "2015-2-02T00:30:12.984Z" }), PS_ERR_SEGMENT.BadTimestamp, /2015-2-02/],
    ["properties that are an array", track("Product Viewed", [1]), PS_ERR_SEGMENT.NotACall, /properties/],
    ["an order without any total", track("Order Completed", { products: ORDER_COMPLETED.products }), PS_ERR_SEGMENT.MissingTotal, /subtotal/],
    ["an order with a negative discount", track("Order Completed", { ...ORDER_COMPLETED, discount: -2.5 }), PS_ERR_SEGMENT.BadAmount, /discount/],
    ["an order whose products are no array", track("Order Completed", { ...ORDER_COMPLETED, products: { a: 1 } }), PS_ERR_SEGMENT.BadProducts, /not an array/],
    ["an order with a product without price", track("Order Completed", { ...ORDER_COMPLETED, products: [{ product_id: "p1", quantity: 1 }] }), PS_ERR_SEGMENT.MissingPrice, /products\[0\].price/],
    // What only the contract's decoder knows, with its reason.
    ["a category over 64 characters", track("Product Viewed", { ...PRODUCT_VIEWED, category: "c".repeat(65) }), PS_ERR_EVENT.Invalid, /\/category/],
    ["a category that is a number", track("Product Viewed", { ...PRODUCT_VIEWED, category: 7 }), PS_ERR_EVENT.Invalid, /\/category/],
    ["a coupon over 64 characters", track("Order Completed", { ...ORDER_COMPLETED, coupon: "x".repeat(65) }), PS_ERR_EVENT.Invalid, /\/promotionId/],
    ["a decision_id the id pattern refuses", track("Order Completed", { ...ORDER_COMPLETED, decision_id: "d 1" }), PS_ERR_EVENT.Invalid, /\/decisionId/],
    ["a timestamp before 2000", track("Product Viewed", PRODUCT_VIEWED, { timestamp: "1999-12-31T23:59:59Z" }), PS_ERR_EVENT.Invalid, /\/ts/],
    ["more than 100 products", track("Order Completed", { total: 1, products: Array.from({ length: 101 }, (_, i) => ({ sku: `s${i}`, price: 1 })) }), PS_ERR_EVENT.Invalid, /\/items/],
  ];
  it.each(rejects)("rejects %s", (_n, call, reason, detail) => {
    const r = rejected(mapSegmentCall(call, NOW, { maxEventBytes: 100_000 }));
    expect(r.reason).toBe(reason);
    expect(r.detail).toMatch(detail);
  });

  it("rejects an event larger than maxEventBytes as the decoder does (oversized), and keeps the messageId on a rejection", () => {
    const call = track("Order Completed", ORDER_COMPLETED);
    const r = rejected(mapSegmentCall(call, NOW, { maxEventBytes: 100 }));
    expect(r).toMatchObject({ reason: PS_ERR_EVENT.Oversized, messageId: call.messageId });
  });

  it("ignores track events it does not map, whatever their name (constructor and __proto__ too)", () => {
    for (const name of ["Song Played", "Order Refunded", "product viewed", "constructor", "__proto__", "toString"])
      expect(mapSegmentCall(track(name, {}), NOW)).toMatchObject({ status: "ignored", kind: "track", name });
  });

  it("answers a batch that is no array with one rejection", () => {
    expect(mapSegment({ batch: "x" }, NOW)).toEqual([{ status: "rejected", reason: PS_ERR_SEGMENT.NotACall, detail: expect.stringContaining("batch") }]);
    expect(mapSegment({ batch: [] }, NOW)).toEqual([]);
    expect(mapSegment(null, NOW)).toMatchObject([{ status: "rejected", reason: PS_ERR_SEGMENT.NotACall }]);
  });

  it("never throws, even on an object no JSON parser makes", () => {
    const hostile = { type: "track", event: "Product Viewed", messageId: "m1", userId: USER, get properties(): unknown { throw new Error("boom"); } };
    expect(mapSegmentCall(hostile, NOW)).toMatchObject({ status: "rejected", reason: PS_ERR_SEGMENT.NotACall, detail: expect.stringContaining("boom") });
    expect(mapSegmentCall(track("Product Viewed", { ...PRODUCT_VIEWED, category: 10n }), NOW).status).toBe("rejected");
  });
});

describe("dollarsToCents", () => {
  it.each([
    [18.99, 1899],
    [19, 1900],
    [0, 0],
    [1.005, 101], // the decimal as written: half a cent, away from zero (its binary value is 1.00499…)
    [0.125, 13],
    [0.124, 12],
    [0.1 + 0.2, 30],
    [1e-7, 0],
    [10_000_000, 1_000_000_000],
  ])("%s dollars → %s cents", (d, c) => expect(dollarsToCents(d)).toBe(c));
  it.each([[-0.01], [Number.NaN], [Number.POSITIVE_INFINITY], ["18.99"], [null], [10_000_000.01], [1e21]])("refuses %s", (d) => expect(dollarsToCents(d)).toBeUndefined());
  it("gives back any whole number of cents written in dollars", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), (c) => dollarsToCents(c / 100) === c));
  });
});

describe("parseIsoTime", () => {
  it.each([
    ["2012-12-02T00:30:12.984Z", TS],
    ["2012-12-02T01:30:12.984+01:00", TS],
    ["2012-12-01T19:30:12.984-0500", TS],
    ["2012-12-02T00:30:12.984123456Z", TS],
    ["2012-12-02T00:30Z", Date.UTC(2012, 11, 2, 0, 30)],
  ])("%s", (s, t) => expect(parseIsoTime(s)).toBe(t));
  it.each([["2012-12-02T00:30:12"], ["2012-12-02 00:30:12Z"], ["2024-02-30T00:00:00Z"], ["2012-12-02T24:00:00Z"], ["2015-2-02T00:30:08.276Z"], ["1354408212984"], [1354408212984]])("refuses %s", (s) =>
    expect(parseIsoTime(s)).toBeUndefined(),
  );
});

describe("any call", () => {
  const productFields = fc.record(
    {
      product_id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null), fc.anything()),
      sku: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), fc.string()),
      category: fc.oneof(fc.string({ maxLength: 70 }), fc.constant(null), fc.integer()),
      price: fc.oneof(fc.double(), fc.integer({ min: -5, max: 10_000_000 }).map((c) => c / 100), fc.string(), fc.constant(null)),
      quantity: fc.oneof(fc.integer({ min: -2, max: 10_002 }), fc.double(), fc.constant(null)),
      name: fc.string(),
    },
    { requiredKeys: [] },
  );
  const properties = fc.oneof(
    fc.record(
      {
        product_id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), fc.string()),
        sku: fc.string(),
        category: fc.string({ maxLength: 70 }),
        price: fc.oneof(fc.double(), fc.integer({ min: 0, max: 10_000_000 }).map((c) => c / 100)),
        quantity: fc.oneof(fc.integer({ min: 0, max: 10_001 }), fc.double()),
        subtotal: fc.oneof(fc.double(), fc.integer({ min: 0, max: 1_000_000 }).map((c) => c / 100)),
        revenue: fc.double(),
        total: fc.anything(),
        discount: fc.oneof(fc.double(), fc.integer({ min: 0, max: 1000 }).map((c) => c / 100)),
        coupon: fc.oneof(fc.string({ maxLength: 70 }), fc.anything()),
        decision_id: fc.oneof(fc.stringMatching(/^d-[A-Za-z0-9._:@-]{1,100}$/), fc.string()),
        products: fc.oneof(fc.array(productFields, { maxLength: 4 }), fc.anything()),
        custom: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.anything(),
  );
  const call = fc.record(
    {
      type: fc.oneof(fc.constantFrom("track", "track", "track", "identify", "page", "screen", "group", "alias", "teleport"), fc.anything()),
      event: fc.oneof(fc.constantFrom(...SEGMENT_MAPPED_EVENTS, "Song Played"), fc.string(), fc.anything()),
      messageId: fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/), fc.string(), fc.anything()),
      userId: fc.oneof(fc.string({ maxLength: 130 }), fc.integer(), fc.anything()),
      anonymousId: fc.oneof(fc.uuid(), fc.anything()),
      timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.anything()),
      properties,
      context: fc.anything(),
    },
    { requiredKeys: [] },
  );
  // Calls close to valid ones, so that many map, and some (a category or coupon a little too long, a
  // time outside 2000–2100) only the contract's decoder refuses.
  const sku = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
  const dollars = fc.integer({ min: 0, max: 100_000 }).map((c) => c / 100);
  const line = fc.record({ sku, price: dollars, quantity: fc.integer({ min: 1, max: 10_000 }), category: fc.string({ minLength: 1, maxLength: 64 }), name: fc.string() }, { requiredKeys: ["sku", "price"] });
  const nearCall = fc.record(
    {
      type: fc.constant("track"),
      event: fc.constantFrom(...SEGMENT_MAPPED_EVENTS),
      messageId: fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/)),
      userId: fc.string({ minLength: 1, maxLength: 128 }),
      timestamp: fc.date({ min: new Date("1998-01-01T00:00:00Z"), max: new Date("2101-12-31T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
      properties: fc.record(
        { product_id: sku, price: dollars, quantity: fc.integer({ min: 1, max: 10_000 }), category: fc.string({ minLength: 1, maxLength: 70 }), subtotal: dollars, discount: dollars, coupon: fc.string({ minLength: 1, maxLength: 70 }), products: fc.array(line, { maxLength: 4 }), brand: fc.string() },
        { requiredKeys: ["product_id", "price", "subtotal"] },
      ),
      context: fc.object(),
    },
    { requiredKeys: ["type", "event", "messageId", "userId", "properties"] },
  );
  const input = fc.oneof({ weight: 4, arbitrary: nearCall }, { weight: 4, arbitrary: call }, { weight: 1, arbitrary: fc.record({ batch: fc.array(fc.oneof(nearCall, call, fc.anything()), { maxLength: 5 }), context: fc.anything() }, { requiredKeys: ["batch"] }) }, { weight: 1, arbitrary: fc.anything() });

  it("is mapped, ignored or rejected, never throws, and a mapped event is one the contract's decoder accepts, with the call's messageId as its id", () => {
    let mappedN = 0;
    fc.assert(
      fc.property(input, fc.integer({ min: 946_684_800_000, max: 4_102_444_799_999 }), (x, now) => {
        const results = mapSegment(x, now);
        const calls = x !== null && typeof x === "object" && Array.isArray((x as { batch?: unknown }).batch) ? (x as { batch: unknown[] }).batch : [x];
        expect(results).toHaveLength(calls.length);
        results.forEach((r, i) => {
          expect(["mapped", "ignored", "rejected"]).toContain(r.status);
          if (r.status !== "mapped") return;
          mappedN++;
          const d = decodeEvent(encodeEvent(r.event), 16_384);
          expect(d.ok).toBe(true);
          expect(r.event.id).toBe((calls[i] as { messageId: string }).messageId);
          expect(r.dropped).toEqual([...new Set(r.dropped)].sort());
        });
      }),
      { seed: 2222, numRuns: 3000 },
    );
    // The generator reaches mapped calls, not only rejections.
    expect(mappedN).toBeGreaterThan(500);
  });
});
