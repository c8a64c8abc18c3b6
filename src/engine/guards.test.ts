import { describe, expect, it } from "vitest";
import { CustomerState, recordOffer } from "../features/index.ts";
import { HOUR, T0, engineConfig, promo } from "../../test/support/engine.ts";
import { Ledger, capAllows, exclusionOf, reservationCents } from "./index.ts";

function ledger(): Ledger {
  const l = new Ledger();
  l.setInventory("sku-1", "toys", 10, 4_000, 2_000, T0);
  l.setInventory("sku-2", "home", 3, 1_000, 500, T0);
  return l;
}

describe("reservationCents", () => {
  it("with no product known, is the most one offer can cost", () => {
    const l = ledger();
    expect(reservationCents(promo("a", { kind: "percent", percentOff: 20, productId: "sku-1", maxDiscountCents: 5_000 }), undefined, l)).toBe(800);
    expect(reservationCents(promo("b", { kind: "percent", percentOff: 20, productId: "sku-1", maxDiscountCents: 500 }), undefined, l)).toBe(500);
    expect(reservationCents(promo("c", { kind: "percent", percentOff: 20, category: "toys", maxDiscountCents: 700 }), undefined, l)).toBe(700);
    expect(reservationCents(promo("d", { kind: "amount", amountOffCents: 300, maxDiscountCents: 900 }), undefined, l)).toBe(300);
    // A bundle of its product: the discount on two units.
    expect(reservationCents(promo("e", { kind: "bundle", percentOff: 15, productId: "sku-1", maxDiscountCents: 5_000 }), undefined, l)).toBe(1_200);
  });

  it("at a decision for a product, is exactly the discount on that product (the contract's rule)", () => {
    const l = ledger();
    const toy = { productId: "sku-1", category: "toys", priceCents: 4_000, costCents: 2_000 };
    expect(reservationCents(promo("c", { kind: "percent", percentOff: 20, category: "toys", maxDiscountCents: 700 }), toy, l)).toBe(700);
    expect(reservationCents(promo("c", { kind: "percent", percentOff: 10, category: "toys", maxDiscountCents: 700 }), toy, l)).toBe(400);
    expect(reservationCents(promo("b", { kind: "bundle", percentOff: 15, category: "toys", maxDiscountCents: 5_000 }), toy, l)).toBe(1_200);
    expect(reservationCents(promo("h", { kind: "percent", percentOff: 10, category: "home", maxDiscountCents: 700 }), toy, l)).toBe(0);
  });
});

describe("exclusionOf", () => {
  const cfg = engineConfig();
  const now = T0 + HOUR;

  it("names the first guard that fails, in order: schedule, channel, stock, budget, cap", () => {
    const l = ledger();
    l.ensureBudget("ok", 1_000);
    l.ensureBudget("late", 1_000);
    l.ensureBudget("email-only", 1_000);
    l.ensureBudget("scarce", 1_000);
    l.ensureBudget("poor", 100);
    const c = new CustomerState();
    expect(exclusionOf(promo("ok"), "web", now, c, l, cfg)).toBeUndefined();
    expect(exclusionOf(promo("late", { startsAtMs: now + 1 }), "web", now, c, l, cfg)).toBe("off-schedule");
    expect(exclusionOf(promo("late", { endsAtMs: now }), "web", now, c, l, cfg)).toBe("off-schedule");
    expect(exclusionOf(promo("email-only", { channels: ["email"] }), "web", now, c, l, cfg)).toBe("wrong-channel");
    // sku-2 has 3 units and the reserve is 2: one unit may be promised, then it is out of stock.
    expect(exclusionOf(promo("scarce", { productId: "sku-2" }), "web", now, c, l, cfg)).toBeUndefined();
    l.reserveUnit("sku-2");
    expect(exclusionOf(promo("scarce", { productId: "sku-2" }), "web", now, c, l, cfg)).toBe("out-of-stock");
    expect(exclusionOf(promo("scarce", { category: "garden" }), "web", now, c, l, cfg)).toBe("out-of-stock");
    expect(exclusionOf(promo("poor", { amountOffCents: 500 }), "web", now, c, l, cfg)).toBe("budget-spent");
    // Schedule is checked before the rest.
    expect(exclusionOf(promo("poor", { endsAtMs: now, channels: ["sms"] }), "web", now, c, l, cfg)).toBe("off-schedule");
  });

  it("at a decision for a product: a promotion that does not apply to it, or whose purchase the product's stock cannot cover, is excluded", () => {
    const l = ledger();
    for (const id of ["toys", "home", "all", "bundle"]) l.ensureBudget(id, 100_000);
    const c = new CustomerState();
    const home = { productId: "sku-2", category: "home", priceCents: 1_000, costCents: 500 };
    expect(exclusionOf(promo("toys", { category: "toys" }), "web", now, c, l, cfg, true, home)).toBe("not-applicable");
    expect(exclusionOf(promo("all"), "web", now, c, l, cfg, true, home)).toBeUndefined();
    // sku-2: 3 units, reserve 2. One unit sells; a bundle of two does not fit.
    expect(exclusionOf(promo("home", { category: "home" }), "web", now, c, l, cfg, true, home)).toBeUndefined();
    expect(exclusionOf(promo("bundle", { kind: "bundle", percentOff: 15, category: "home" }), "web", now, c, l, cfg, true, home)).toBe("out-of-stock");
    // Not applicable comes before stock and budget: it is why the promotion is no candidate at all.
    l.setInventory("sku-2", "home", 0, 1_000, 500, T0 + 1);
    expect(exclusionOf(promo("toys", { category: "toys" }), "web", now, c, l, cfg, true, home)).toBe("not-applicable");
    expect(exclusionOf(promo("all"), "web", now, c, l, cfg, true, home)).toBe("out-of-stock");
  });

  it("excludes everything for a customer at the frequency cap of the channel", () => {
    const l = ledger();
    l.ensureBudget("ok", 1_000);
    const c = new CustomerState();
    recordOffer(c, "email", now - HOUR, 1, 0);
    expect(capAllows(c, "email", now, cfg)).toBe(false);
    expect(exclusionOf(promo("ok"), "email", now, c, l, cfg)).toBe("frequency-cap");
    expect(exclusionOf(promo("ok"), "web", now, c, l, cfg)).toBeUndefined();
    expect(capAllows(c, "email", now + 24 * HOUR, cfg)).toBe(true);
    const none = engineConfig({ frequencyCaps: { sms: { maxOffers: 0, windowMs: HOUR } } });
    expect(exclusionOf(promo("ok"), "sms", now, undefined, l, none)).toBe("frequency-cap");
  });
});
