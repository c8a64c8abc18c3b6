// Where decisions are made (issue #14): the product-view trigger, visits by session or by gap, two
// visits open at once, cart-abandon sends for the cart's product, sends with no product.
import { describe, expect, it } from "vitest";
import { rngFromKey } from "../random/index.ts";
import type { Decision, ShopEvent } from "../events/index.ts";
import { MIN, T0, engineConfig, promo } from "../../test/support/engine.ts";
import { createEngine, customerFeatures, step, type Engine, type EngineConfig } from "./index.ts";

const decided = (e: Engine, x: ShopEvent): Decision | undefined => {
  for (const f of step(e, x, rngFromKey(e.cfg.seed, x.id))) if (f.kind === "decision") return f.decision;
  return undefined;
};
let n = 0;
const view = (customerId: string, ts: number, productId: string, sessionId?: string): ShopEvent => ({
  type: "view",
  id: `v${++n}`,
  ts,
  customerId,
  productId,
  category: "toys",
  priceCents: 2_000,
  ...(sessionId ? { sessionId } : {}),
});

function engine(over: Parameters<typeof engineConfig>[0] = {}): Engine {
  const cfg: EngineConfig = engineConfig({ promotions: [promo("p", { category: "toys" })], decisionPoints: { visit: false }, ...over });
  const e = createEngine(cfg);
  e.ledger.setInventory("a", "toys", 100, 2_000, 1_200, T0);
  e.ledger.setInventory("b", "toys", 100, 2_000, 1_200, T0);
  e.ledger.setInventory("h", "home", 100, 2_000, 1_200, T0);
  return e;
}

describe("decision points", () => {
  it("decides at the first product view of a visit, once per visit by default, and says which product", () => {
    const e = engine();
    const visit: ShopEvent = { type: "visit", id: "vis-1", ts: T0, customerId: "c", channel: "web", sessionId: "s1" };
    expect(decided(e, visit)).toBeUndefined();
    const d = decided(e, view("c", T0 + 5_000, "a", "s1"));
    expect(d).toMatchObject({ point: "product-view", productId: "a", channel: "web" });
    expect(decided(e, view("c", T0 + 20_000, "b", "s1"))).toBeUndefined();
    expect(decided(e, view("c", T0 + 30_000, "a", "s1"))).toBeUndefined();
    // The next visit decides again.
    expect(decided(e, view("c", T0 + 40 * MIN, "b", "s2"))).toMatchObject({ point: "product-view", productId: "b" });
  });

  it("with minViews 3 and maxPerVisit 2: the third view of a product without a purchase, two products a visit", () => {
    const e = engine({ decisionPoints: { productView: { enabled: true, minViews: 3, maxPerVisit: 2 } } });
    const at = (p: string, k: number) => decided(e, view("c", T0 + k * 1_000, p, "s1"));
    expect([at("a", 1), at("a", 2)]).toEqual([undefined, undefined]);
    expect(at("a", 3)).toMatchObject({ productId: "a" });
    expect(at("a", 4)).toBeUndefined(); // one decision per product
    // A purchase starts the count again ("without a purchase").
    expect(at("b", 5)).toBeUndefined();
    expect(at("b", 6)).toBeUndefined();
    step(e, { type: "purchase", id: "buy", ts: T0 + 6_500, customerId: "c", sessionId: "s1", totalCents: 2_000 }, rngFromKey(1, "buy"));
    expect(at("b", 7)).toBeUndefined();
    expect(at("b", 8)).toBeUndefined();
    expect(at("b", 9)).toMatchObject({ productId: "b" });
    expect([at("h", 10), at("h", 11), at("h", 12)]).toEqual([undefined, undefined, undefined]); // two a visit at most
  });

  it("keeps two visits open at once apart: their interleaved views do not start the other over", () => {
    const e = engine();
    expect(decided(e, view("c", T0, "a", "s1"))).toBeDefined();
    expect(decided(e, view("c", T0 + 1_000, "b", "s2"))).toBeDefined();
    expect(decided(e, view("c", T0 + 2_000, "b", "s1"))).toBeUndefined();
    expect(decided(e, view("c", T0 + 3_000, "a", "s2"))).toBeUndefined();
  });

  it("without session ids, a visit lasts until a gap of visitGapSec", () => {
    const e = engine();
    expect(decided(e, view("c", T0, "a"))).toBeDefined();
    expect(decided(e, view("c", T0 + 10 * MIN, "b"))).toBeUndefined();
    expect(decided(e, view("c", T0 + 45 * MIN, "b"))).toBeDefined();
  });

  it("decides at a send: for the cart's most valuable product when it carries the cart, with no product otherwise", () => {
    const e = engine();
    const cart: ShopEvent = {
      type: "send",
      id: "send-1",
      ts: T0,
      customerId: "c",
      channel: "email",
      reason: "cart-abandoned",
      items: [
        { productId: "h", quantity: 1, priceCents: 2_000 },
        { productId: "a", quantity: 2, priceCents: 2_000 },
      ],
    };
    expect(decided(e, cart)).toMatchObject({ point: "cart", productId: "a", channel: "email" });
    const lapsed: ShopEvent = { type: "send", id: "send-2", ts: T0 + 1, customerId: "d", channel: "email", reason: "lapsed" };
    const d = decided(e, lapsed)!;
    expect(d.point).toBe("send");
    expect(d.productId).toBeUndefined();
  });

  it("decides at a visit (a banner, no product) only when decisionPoints.visit is on, and at cart events when .cart is", () => {
    const off = engine();
    expect(decided(off, { type: "visit", id: "x1", ts: T0, customerId: "c", channel: "web" })).toBeUndefined();
    expect(decided(off, { type: "cart", id: "x2", ts: T0 + 1, customerId: "c", productId: "a", quantity: 1, priceCents: 2_000 })).toBeUndefined();
    const on = engine({ decisionPoints: { visit: true, cart: true, productView: { enabled: false, minViews: 1, maxPerVisit: 1 } } });
    expect(decided(on, { type: "visit", id: "y1", ts: T0, customerId: "c", channel: "web" })).toMatchObject({ point: "visit" });
    expect(decided(on, { type: "cart", id: "y2", ts: T0 + 1, customerId: "c", productId: "a", quantity: 1, priceCents: 2_000 })).toMatchObject({ point: "cart", productId: "a" });
    expect(decided(on, view("c", T0 + 2, "b"))).toBeUndefined();
  });

  it("never decides at a cart removal, which neither uses up the product's decision nor counts as a cart add", () => {
    const e = engine({ decisionPoints: { cart: true, productView: { enabled: false, minViews: 1, maxPerVisit: 1 } } });
    const cart = (id: string, ts: number, action?: "add" | "remove"): ShopEvent => ({
      type: "cart", id, ts, customerId: "c", sessionId: "s1", productId: "a", quantity: 2, priceCents: 2_000, ...(action ? { action } : {}),
    });
    expect(decided(e, cart("r1", T0, "remove"))).toBeUndefined();
    // The add after it is still the product's first cart decision in the visit.
    expect(decided(e, cart("a1", T0 + 1_000, "add"))).toMatchObject({ point: "cart", productId: "a" });
    expect(decided(e, cart("r2", T0 + 2_000, "remove"))).toBeUndefined();
    // What the engine observed: one add (its line taken out again by the second removal; the first
    // came before any add and took nothing).
    const f = customerFeatures(e, "c", T0 + 3_000);
    expect(f.carts5m).toBe(1);
    expect(f.cartValueCents).toBe(0);
  });

  it("remembers a bounded number of a visit's product decisions, however many products one session puts in its cart", () => {
    const e = engine({ decisionPoints: { cart: true, productView: { enabled: true, minViews: 1, maxPerVisit: 1 } } });
    // A bot's session adding product after product (ids never repeated).
    for (let i = 0; i < 2_000; i++) decided(e, { type: "cart", id: `bot-${i}`, ts: T0 + i, customerId: "bot", sessionId: "s1", productId: `sku-${i}`, quantity: 1, priceCents: 2_000, category: "toys" });
    const visit = e.features.getOrCreate("bot").visitLog.at(-1)!;
    expect(visit.decided.length).toBeLessThanOrEqual(64);
    // A product carted recently still had its decision; the visit's views are still over maxPerVisit.
    expect(decided(e, { type: "cart", id: "again", ts: T0 + 3_000, customerId: "bot", sessionId: "s1", productId: "sku-1999", quantity: 1, priceCents: 2_000, category: "toys" })).toBeUndefined();
    expect(decided(e, view("bot", T0 + 3_001, "a", "s1"))).toBeUndefined();
  });
});
