import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/events/index.ts";
import type { CatalogItemView } from "../../src/server/index.ts";
import { addToCart, customerIdProblem, eventTimeMs, formatCents, newCustomerId, noDecisionText, offerFor, offerUsable, purchaseOf, readVisitMemory, whyOf, writeVisitMemory, type CartLine } from "./shop.ts";

const tv: CatalogItemView = { id: "sku-001", name: "Small Steel Lamp", category: "electronics", priceCents: 12_999, stock: 40 };
const toy: CatalogItemView = { id: "sku-004", name: "Soft Cotton Bear", category: "toys", priceCents: 2_000, stock: 40 };

const decision = (over: Partial<Decision> = {}): Decision => ({
  id: "d-v-1",
  ts: 1_000,
  customerId: "shopper-1",
  channel: "web",
  promotionId: "pct10-electronics",
  holdout: false,
  segment: "new|browser|full-price",
  propensity: 0.4,
  eventId: "v-1",
  point: "product-view",
  productId: "sku-001",
  expiresAt: 1_800_000,
  offer: { kind: "percent", percentOff: 10, category: "electronics", maxDiscountCents: 3_000 },
  explanation: {
    candidates: [
      { promotionId: "control", score: 1_000, marginCents: 5_000 },
      { promotionId: "pct10-electronics", score: 1_200, marginCents: 4_000 },
      { promotionId: "free-shipping", score: 900, marginCents: 4_300 },
    ],
    excluded: [{ promotionId: "amt5-home", reason: "not-applicable" }],
  },
  ...over,
});

describe("offerFor", () => {
  it("prices a percent offer by the offer rule: 10% of $129.99 is $13.00 (rounded to the cent)", () => {
    const o = offerFor(decision(), tv, { id: "pct10-electronics", name: "10% off electronics" })!;
    expect(o).toMatchObject({ promotionId: "pct10-electronics", name: "10% off electronics", decisionId: "d-v-1", quantity: 1, listCents: 12_999, discountCents: 1_300, totalCents: 11_699, terms: "10% off" });
  });

  it("caps the discount at what the decision reserved", () => {
    const o = offerFor(decision({ offer: { kind: "percent", percentOff: 50, category: "electronics", maxDiscountCents: 2_500 } }), tv)!;
    expect(o.discountCents).toBe(2_500);
    expect(o.totalCents).toBe(12_999 - 2_500);
    // Without the promotion's name the id stands in.
    expect(o.name).toBe("pct10-electronics");
  });

  it("an amount and free shipping take their amount off", () => {
    expect(offerFor(decision({ promotionId: "amt5", offer: { kind: "amount", amountOffCents: 500, maxDiscountCents: 500 } }), tv)).toMatchObject({ discountCents: 500, totalCents: 12_499, terms: "$5.00 off" });
    expect(offerFor(decision({ promotionId: "free-shipping", offer: { kind: "free-shipping", amountOffCents: 699, maxDiscountCents: 699 } }), tv)).toMatchObject({ discountCents: 699, terms: "free shipping ($6.99 off)" });
  });

  it("a bundle takes its units: two by default, or the promotion's bundleQuantity", () => {
    const d = decision({ promotionId: "bundle-toys", productId: "sku-004", offer: { kind: "bundle", percentOff: 15, category: "toys", maxDiscountCents: 2_500 } });
    expect(offerFor(d, toy)).toMatchObject({ quantity: 2, listCents: 4_000, discountCents: 600, totalCents: 3_400, terms: "15% off when you buy 2" });
    expect(offerFor(d, toy, { id: "bundle-toys", name: "15% off three toys", bundleQuantity: 3 })).toMatchObject({ quantity: 3, listCents: 6_000, discountCents: 900 });
  });

  it("is null for control, a decision without offer, another product's decision, or an offer that gives nothing here", () => {
    expect(offerFor(decision({ promotionId: "control", offer: undefined }), tv)).toBeNull();
    expect(offerFor(decision({ offer: undefined }), tv)).toBeNull();
    expect(offerFor(decision({ productId: "sku-002" }), tv)).toBeNull();
    expect(offerFor(decision({ productId: "sku-004" }), toy)).toBeNull();
    expect(offerFor(null, tv)).toBeNull();
  });

  it("is usable until the decision expires (the shop's time)", () => {
    const o = offerFor(decision(), tv)!;
    expect(offerUsable(o, 1_800_000)).toBe(true);
    expect(offerUsable(o, 1_800_001)).toBe(false);
  });
});

describe("whyOf", () => {
  it("lists candidates best score first with margin × conversion, the chosen one marked, and the excluded with reasons in words", () => {
    const w = whyOf(decision(), new Map([["pct10-electronics", "10% off electronics"]]));
    expect(w.candidates.map((c) => [c.promotionId, c.chosen])).toEqual([
      ["pct10-electronics", true],
      ["control", false],
      ["free-shipping", false],
    ]);
    expect(w.candidates[0]).toMatchObject({ name: "10% off electronics", marginCents: 4_000, score: 1_200 });
    expect(w.candidates[0]!.conversion).toBeCloseTo(0.3);
    expect(w.candidates[1]!.name).toBe("no promotion (control)");
    expect(w.excluded).toEqual([{ promotionId: "amt5-home", name: "amt5-home", reason: "not-applicable", because: "it does not apply to this product" }]);
  });

  it("has no conversion where the decision had no margin to go by", () => {
    const w = whyOf(decision({ explanation: { candidates: [{ promotionId: "control", score: 0.12 }], excluded: [] } }));
    expect(w.candidates[0]).toMatchObject({ marginCents: undefined, conversion: undefined, score: 0.12 });
  });
});

describe("purchaseOf", () => {
  const offer = offerFor(decision(), tv)!;
  const bundle = offerFor(decision({ id: "d-v-2", promotionId: "bundle-toys", productId: "sku-004", offer: { kind: "bundle", percentOff: 15, category: "toys", maxDiscountCents: 2_500 } }), toy)!;
  const line = (p: CatalogItemView, quantity: number, o?: typeof offer): CartLine => ({ productId: p.id, category: p.category, priceCents: p.priceCents, quantity, offer: o });

  it("redeems the offer: promotionId, decisionId and the discount, the total after it", () => {
    expect(purchaseOf([line(tv, 1, offer)], 1_000)).toEqual({
      totalCents: 11_699,
      items: [{ productId: "sku-001", category: "electronics", quantity: 1, priceCents: 12_999 }],
      promotionId: "pct10-electronics",
      decisionId: "d-v-1",
      discountCents: 1_300,
    });
  });

  it("without an offer, or with one expired or short of its units, is at full price and names no promotion", () => {
    expect(purchaseOf([line(tv, 2)], 1_000)).toEqual({ totalCents: 25_998, items: [{ productId: "sku-001", category: "electronics", quantity: 2, priceCents: 12_999 }] });
    expect(purchaseOf([line(tv, 1, offer)], 2_000_000).promotionId).toBeUndefined();
    expect(purchaseOf([line(toy, 1, bundle)], 1_000)).toMatchObject({ totalCents: 2_000 });
    expect(purchaseOf([line(toy, 1, bundle)], 1_000).promotionId).toBeUndefined();
  });

  it("uses one offer per order, the one that saves most", () => {
    const p = purchaseOf([line(toy, 2, bundle), line(tv, 1, offer)], 1_000);
    expect(p).toMatchObject({ promotionId: "pct10-electronics", decisionId: "d-v-1", discountCents: 1_300, totalCents: 4_000 + 12_999 - 1_300 });
    expect(p.items).toHaveLength(2);
  });
});

describe("addToCart", () => {
  it("keeps one line per product, adding units and keeping the newest offer", () => {
    const offer = offerFor(decision(), tv)!;
    let cart = addToCart([], { productId: "sku-001", category: "electronics", priceCents: 12_999, quantity: 1, offer });
    cart = addToCart(cart, { productId: "sku-004", category: "toys", priceCents: 2_000, quantity: 1 });
    cart = addToCart(cart, { productId: "sku-001", category: "electronics", priceCents: 12_999, quantity: 1 });
    expect(cart.map((l) => [l.productId, l.quantity, l.offer?.decisionId])).toEqual([
      ["sku-001", 2, "d-v-1"],
      ["sku-004", 1, undefined],
    ]);
  });
});

describe("customer ids, times and texts", () => {
  it("accepts the contract's ids and says what is wrong with others", () => {
    expect(customerIdProblem("shopper-ab12")).toBeNull();
    expect(customerIdProblem("c00001")).toBeNull();
    expect(customerIdProblem("")).toMatch(/empty/);
    expect(customerIdProblem("x".repeat(129))).toMatch(/128/);
    expect(customerIdProblem(" me")).toMatch(/space/);
    expect(customerIdProblem("a\nb")).toMatch(/control/);
  });

  it("makes new ids from random bytes", () => {
    expect(newCustomerId(new Uint8Array([0, 1, 35, 36, 71, 10, 11, 255]))).toBe("shopper-01z0zab3");
    expect(customerIdProblem(newCustomerId(crypto.getRandomValues(new Uint8Array(8))))).toBeNull();
  });

  it("stamps events with the shop's clock, never before the decision they follow", () => {
    expect(eventTimeMs(5_000.4)).toBe(5_000);
    expect(eventTimeMs(5_000, 6_000)).toBe(6_000);
  });

  it("formats cents and says why a view brought no decision", () => {
    expect(formatCents(12_999)).toBe("$129.99");
    expect(formatCents(-5)).toBe("-$0.05");
    expect(noDecisionText("not-a-decision-point")).toMatch(/new visit/);
    expect(noDecisionText("timeout")).toMatch(/same event id/);
    expect(noDecisionText("late")).toMatch(/refused \(late\)/);
  });
});

describe("readVisitMemory / writeVisitMemory (a reload is the same visit)", () => {
  const d = { id: "d-1", promotionId: "pct10-electronics" } as unknown as Decision;
  it("gives back the visit's decisions by product and the used offers", () => {
    const raw = writeVisitMemory("visit-a", new Map([["sku-001", d]]), new Set(["d-0"]));
    const m = readVisitMemory(raw, "visit-a");
    expect([...m.decisions]).toEqual([["sku-001", d]]);
    expect([...m.redeemed]).toEqual(["d-0"]);
  });
  it("gives nothing for another visit, nothing stored, or something unreadable", () => {
    const raw = writeVisitMemory("visit-a", new Map([["sku-001", d]]), new Set());
    for (const m of [readVisitMemory(raw, "visit-b"), readVisitMemory(null, "visit-a"), readVisitMemory("{not json", "visit-a"), readVisitMemory('{"sessionId":"visit-a","decisions":[["sku-1",null]],"redeemed":[]}', "visit-a")]) {
      expect(m.decisions.size).toBe(0);
      expect(m.redeemed.size).toBe(0);
    }
  });
});
