import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { decodeCustomer, encodeCustomer } from "./codec.ts";
import { CustomerState, beginVisit, customerToJSON, noteOutcome, noteProductView, observe, recordOffer } from "./customer.ts";
import { StringTable } from "./strings.ts";

const T = 1_700_000_000_000;
const CHANNELS = ["web", "email", "sms", "push"] as const;

/** One random thing a customer's state goes through, as the engine drives it. */
const op = fc.oneof(
  fc.record({
    k: fc.constant("event" as const),
    type: fc.constantFrom("view", "click", "cart", "purchase", "visit", "send"),
    dt: fc.integer({ min: -3 * 3_600_000, max: 30 * 3_600_000 }),
    category: fc.option(fc.constantFrom("toys", "books", "home", "garden", "sports", "é-ünïcode"), { nil: undefined }),
    productId: fc.constantFrom("sku-1", "sku-2", "sku-3", "sku-4", "p.x"),
    sessionId: fc.option(fc.constantFrom<string>("s1", "s2", "s3", "s4", "s5", "ßession-∞", "mc12345-1"), { nil: undefined }),
    priceCents: fc.integer({ min: 0, max: 1_000_000_000 }),
    quantity: fc.integer({ min: 1, max: 10_000 }),
    promoted: fc.boolean(),
  }),
  fc.record({ k: fc.constant("offer" as const), channel: fc.constantFrom(...CHANNELS), dt: fc.integer({ min: -3_600_000, max: 30 * 3_600_000 }), keep: fc.boolean() }),
  fc.record({ k: fc.constant("outcome" as const), treated: fc.boolean(), converted: fc.boolean() }),
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function build(ops: Op[]): CustomerState {
  const c = new CustomerState();
  for (const o of ops) {
    if (o.k === "offer") recordOffer(c, o.channel, T + o.dt, 3, o.keep ? T + o.dt - 7_200_000 : undefined);
    else if (o.k === "outcome") noteOutcome(c, o.treated, o.converted);
    else {
      const ts = T + o.dt;
      const visit = beginVisit(c, { type: o.type, ts, sessionId: o.sessionId }, 30 * 60_000);
      if (o.type === "view") {
        noteProductView(visit, o.productId);
        if (visit.decided.length < 2 && !visit.decided.includes(o.productId)) visit.decided.push(o.productId);
      }
      observe(c, { type: o.type, ts, category: o.category, priceCents: o.priceCents, quantity: o.quantity, promoted: o.promoted }, 3);
    }
  }
  return c;
}

describe("customer records", () => {
  it("round-trip every field of random customers, into a fresh or a reused object", () => {
    const w = new ByteWriter(16);
    const r = new ByteReader();
    const reused = new CustomerState();
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.boolean(), (ops, tinyTable) => {
        // A full table writes strings inline: both forms must read back the same.
        const strings = new StringTable(tinyTable ? 2 : 1000);
        const c = build(ops);
        encodeCustomer(c, w.reset(), strings);
        const bytes = w.view().slice();
        const fresh = decodeCustomer(r.reset(bytes), strings);
        expect(r.done).toBe(true);
        expect(customerToJSON(fresh)).toEqual(customerToJSON(c));
        expect(Array.from(fresh.windows.data)).toEqual(Array.from(c.windows.data));
        decodeCustomer(r.reset(bytes), strings, reused);
        expect(customerToJSON(reused)).toEqual(customerToJSON(c));
        // Re-encoding the decoded customer gives the same bytes.
        encodeCustomer(reused, w.reset(), strings);
        expect(w.view()).toEqual(bytes);
      }),
      { seed: 16, numRuns: 300 },
    );
  });

  it("keeps numbers a record does not expect (fractions, huge values) exactly", () => {
    const c = new CustomerState();
    c.cartValueCents = 12.5;
    c.lastEventMs = T;
    c.firstSeenMs = 2 ** 60;
    c.purchases = Number.MAX_SAFE_INTEGER;
    c.cartLines = [{ ts: -1, cents: -0.25 }];
    const w = new ByteWriter();
    const strings = new StringTable();
    encodeCustomer(c, w, strings);
    const back = decodeCustomer(new ByteReader().reset(w.view()), strings);
    expect(customerToJSON(back)).toEqual(customerToJSON(c));
  });

  it("writes a customer with a visit's worth of events in well under 150 bytes", () => {
    const strings = new StringTable();
    const c = build([
      { k: "event", type: "visit", dt: 0, category: undefined, productId: "sku-1", sessionId: "mc12345-1", priceCents: 0, quantity: 1, promoted: false },
      { k: "event", type: "view", dt: 1000, category: "toys", productId: "sku-1", sessionId: "mc12345-1", priceCents: 2500, quantity: 1, promoted: false },
      { k: "event", type: "click", dt: 20_000, category: "toys", productId: "sku-1", sessionId: "mc12345-1", priceCents: 0, quantity: 1, promoted: false },
      { k: "event", type: "cart", dt: 40_000, category: "toys", productId: "sku-1", sessionId: "mc12345-1", priceCents: 2500, quantity: 1, promoted: false },
    ]);
    const w = new ByteWriter();
    encodeCustomer(c, w, strings);
    expect(w.len).toBeLessThan(150);
    expect(w.len).toBeGreaterThan(20);
  });

  it("refuses a record that ends early or points past the string table", () => {
    const strings = new StringTable();
    const c = build([{ k: "event", type: "view", dt: 0, category: "toys", productId: "sku-1", sessionId: "s1", priceCents: 1, quantity: 1, promoted: false }]);
    const w = new ByteWriter();
    encodeCustomer(c, w, strings);
    expect(() => decodeCustomer(new ByteReader().reset(w.view().slice(0, w.len - 2)), strings)).toThrow(RangeError);
    expect(() => decodeCustomer(new ByteReader().reset(w.view()), new StringTable())).toThrow(/not in the table/);
  });
});
