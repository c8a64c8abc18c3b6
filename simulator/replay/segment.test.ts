// `replay --format segment`: a file of Segment calls, one JSON a line, through the whole replay (read,
// map, check, reorder, publish) into an in-memory sink that drops repeated ids as JetStream does.
// Payloads: the e-commerce spec v2's documented examples (properties verbatim from
// https://segment.com/docs/connections/spec/ecommerce/v2/#product-viewed, #product-added,
// #product-removed, #order-completed, in the HTTP API's track call shape with our messageId and
// timestamp), and the HTTP API's batch example verbatim
// (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#batch).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeEvent, PS_ERR_SEGMENT, Subjects } from "../../src/events/index.ts";
import { formatNamed } from "./formats.ts";
import { replayFile, summaryLine } from "./replay.ts";
import { segment } from "./segment.ts";
import { MemorySink } from "../../test/support/memory-sink.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-segment-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PRODUCT = { product_id: "507f1f77bcf86cd799439011", sku: "G-32", category: "Games", name: "Monopoly: 3rd Edition", brand: "Hasbro", variant: "200 pieces", price: 18.99, quantity: 1, coupon: "MAYDEALS", position: 3, url: "https://www.example.com/product/path", image_url: "https://www.example.com/product/path.jpg" };
const VIEWED = { ...PRODUCT, currency: "usd", value: 18.99 };
const ADDED = { cart_id: "skdjsidjsdkdj29j", ...PRODUCT };
const REMOVED = { cart_id: "ksjdj92dj29dj92d2j", ...PRODUCT };
const ORDER = {
  checkout_id: "fksdjfsdjfisjf9sdfjsd9f", order_id: "50314b8e9bcf000000000000", affiliation: "Google Store", total: 27.5, subtotal: 22.5, revenue: 25.0, shipping: 3, tax: 2, discount: 2.5, coupon: "hasbros", currency: "USD",
  products: [
    { product_id: "507f1f77bcf86cd799439011", sku: "45790-32", name: "Monopoly: 3rd Edition", price: 19, quantity: 1, category: "Games", url: "https://www.example.com/product/path", image_url: "https:///www.example.com/product/path.jpg" },
    { product_id: "505bd76785ebb509fc183733", sku: "46493-32", name: "Uno Card Game", price: 3, quantity: 2, category: "Games" },
  ],
};
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
const call = (event: string, properties: unknown, messageId: string | undefined, timestamp: string | undefined) => ({
  type: "track", event, userId: "019mr8mf4r", properties, ...(messageId ? { messageId } : {}), ...(timestamp ? { timestamp } : {}),
});

describe("replay --format segment", () => {
  it("is a format replay knows, read as JSON lines", () => {
    expect(formatNamed("segment")).toBe(segment);
    expect(segment.input).toBe("jsonl");
  });

  it("publishes the mapped calls in event-time order and counts mapped, ignored by kind, rejected by reason and dropped fields", async () => {
    const file = join(dir, "shop.jsonl");
    const lines = [
      JSON.stringify(call("Order Completed", ORDER, "m-order", "2012-12-02T00:40:00.000Z")),
      JSON.stringify(call("Product Viewed", VIEWED, "m-view", "2012-12-02T00:30:12.984Z")),
      JSON.stringify({ batch: [HTTP_BATCH.batch[0], call("Product Added", ADDED, "m-add", "2012-12-02T00:31:00.000Z"), call("Product Removed", REMOVED, undefined, "2012-12-02T00:32:00.000Z")], context: { ip: "24.5.68.47" } }),
      "{not json",
      JSON.stringify(call("Product Removed", REMOVED, "m-remove", undefined)),
      "",
      JSON.stringify(HTTP_BATCH),
      JSON.stringify(call("Product Viewed", VIEWED, "m-view", "2012-12-02T00:30:12.984Z")), // a re-sent call
    ];
    writeFileSync(file, `${lines.join("\n")}\n`);
    const sink = new MemorySink();
    const r = await replayFile({ file, format: segment, sink, subjects: new Subjects(), partitions: 4, maxEventBytes: 16_384 });

    expect(r.rows).toBe(7);
    expect(r.malformed).toBe(1);
    expect(r.malformedExamples[0]).toMatchObject({ line: 4, reason: expect.stringMatching(/^not JSON/) });
    expect(r.calls).toMatchObject({
      mapped: 4,
      ignored: { identify: 3, track: 2 },
      rejected: { [PS_ERR_SEGMENT.MissingMessageId]: 1, [PS_ERR_SEGMENT.MissingTimestamp]: 1 },
    });
    expect(r.calls!.dropped).toMatchObject({ "properties.name": 3, "properties.brand": 3, "properties.cart_id": 1, "context.*": 1, "properties.products[].sku": 1 });
    expect(r.rejectedExamples.map((e) => [e.line, e.reason])).toEqual([[3, PS_ERR_SEGMENT.MissingMessageId], [5, PS_ERR_SEGMENT.MissingTimestamp]]);
    expect(r.rejectedExamples[1]!.text).toMatch(/messageId "m-remove"/);

    // The re-sent call was published again under its id and dropped as a duplicate.
    expect([r.published, r.duplicates]).toEqual([4, 1]);
    expect(sink.got.map((m) => m.id)).toEqual(["m-view", "m-add", "m-order"]);
    expect(sink.got.map((m) => m.subject.split(".").slice(0, 2).join("."))).toEqual(["events.view", "events.cart", "events.purchase"]);
    for (const m of sink.got) expect(decodeEvent(m.data, 16_384).ok).toBe(true);
    expect(r.byType).toEqual({ view: 2, cart: 1, purchase: 1 });

    const line = summaryLine(r);
    expect(line).toContain("calls: 4 mapped, 5 ignored (identify 3, track 2), 2 rejected (missing-message-id 1, missing-timestamp 1), dropped fields (");
    expect(line).toContain("malformed 1 rows");
  });

  it("checks its events against the processor's maxEventBytes: a call over it is rejected as oversized, not published", async () => {
    const file = join(dir, "big.jsonl");
    writeFileSync(file, `${JSON.stringify(call("Order Completed", ORDER, "m-order", "2012-12-02T00:40:00.000Z"))}\n`);
    const sink = new MemorySink();
    const r = await replayFile({ file, format: segment, sink, subjects: new Subjects(), partitions: 1, maxEventBytes: 120 });
    expect(r.calls).toMatchObject({ mapped: 0, rejected: { oversized: 1 } });
    expect(r.malformed).toBe(0);
    expect(sink.got).toEqual([]);
  });
});
