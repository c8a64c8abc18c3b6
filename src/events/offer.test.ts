// The contract's offer rule: what the engine reserves and scores by, and what the shop charges.
import { describe, expect, it } from "vitest";
import { marginIfBoughtCents, offerApplies, offerDiscountCents, offerQuantity, type OfferTerms } from "./index.ts";

const toy = { productId: "sku-1", category: "toys", priceCents: 4_000, costCents: 2_500 };
const promo = (over: Partial<OfferTerms>): OfferTerms => ({ kind: "percent", percentOff: 10, maxDiscountCents: 10_000, ...over });

describe("offer rule", () => {
  it("applies to its product, its category, or (neither set) everything", () => {
    expect(offerApplies(promo({ productId: "sku-1" }), toy)).toBe(true);
    expect(offerApplies(promo({ productId: "sku-2" }), toy)).toBe(false);
    expect(offerApplies(promo({ category: "toys" }), toy)).toBe(true);
    expect(offerApplies(promo({ category: "home" }), toy)).toBe(false);
    expect(offerApplies(promo({}), toy)).toBe(true);
  });

  it("discounts a share of the line (rounded to the cent) or a fixed amount, never above the caps, 0 where it does not apply", () => {
    expect(offerDiscountCents(promo({ percentOff: 15 }), toy, 1)).toBe(600);
    expect(offerDiscountCents(promo({ percentOff: 12.5 }), { ...toy, priceCents: 999 }, 1)).toBe(125);
    expect(offerDiscountCents(promo({ percentOff: 50, maxDiscountCents: 1_500 }), toy, 1)).toBe(1_500);
    expect(offerDiscountCents(promo({ percentOff: 50 }), toy, 1, 700)).toBe(700);
    expect(offerDiscountCents(promo({ kind: "amount", amountOffCents: 500, maxDiscountCents: 500 }), toy, 1)).toBe(500);
    expect(offerDiscountCents(promo({ kind: "free-shipping", amountOffCents: 699, maxDiscountCents: 699 }), toy, 3)).toBe(699);
    expect(offerDiscountCents(promo({ category: "home" }), toy, 1)).toBe(0);
  });

  it("sells a bundle as two units (or bundleQuantity) where it applies, one elsewhere", () => {
    const bundle = promo({ kind: "bundle", percentOff: 15, category: "toys" });
    expect(offerQuantity(bundle, toy)).toBe(2);
    expect(offerQuantity({ ...bundle, bundleQuantity: 3 }, toy)).toBe(3);
    expect(offerQuantity(bundle, { ...toy, category: "home" })).toBe(1);
    expect(offerQuantity(undefined, toy)).toBe(1);
  });

  it("margin if bought = (price − cost) × quantity − discount", () => {
    expect(marginIfBoughtCents(undefined, toy)).toBe(1_500);
    expect(marginIfBoughtCents(promo({ percentOff: 20 }), toy)).toBe(1_500 - 800);
    expect(marginIfBoughtCents(promo({ kind: "bundle", percentOff: 15, category: "toys" }), toy)).toBe(2 * 1_500 - 1_200);
    expect(marginIfBoughtCents(promo({ kind: "free-shipping", amountOffCents: 699, maxDiscountCents: 699 }), toy)).toBe(1_500 - 699);
    // A discount above the margin: negative (the engine then excludes the offer as "no-margin").
    expect(marginIfBoughtCents(promo({ percentOff: 60 }), toy)).toBe(1_500 - 2_400);
    expect(marginIfBoughtCents(promo({ category: "home", percentOff: 60 }), toy)).toBe(1_500);
  });
});
