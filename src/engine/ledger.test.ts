import { describe, expect, it } from "vitest";
import { HELD_BUCKET_MS, Ledger } from "./index.ts";

const T = 1_700_000_000_000;

describe("Ledger: stock", () => {
  it("tracks available units as stock minus reservations, per product and per category", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 5, 2000, 1200, T);
    l.setInventory("sku-2", "toys", 3, 1000, 600, T);
    expect(l.available("sku-1")).toBe(5);
    expect(l.categoryAvailableUnits("toys")).toBe(8);
    l.reserveUnit("sku-1");
    l.reserveUnit("sku-1");
    expect(l.available("sku-1")).toBe(3);
    expect(l.categoryAvailableUnits("toys")).toBe(6);
    l.releaseUnit("sku-1");
    expect(l.available("sku-1")).toBe(4);
    expect(l.categoryAvailableUnits("toys")).toBe(7);
    expect(l.available("unknown")).toBe(0);
  });

  it("applies a newer inventory event over reservations and moves a product between categories", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 5, 2000, 1200, T);
    l.reserveUnit("sku-1");
    expect(l.setInventory("sku-1", "games", 2, 2100, 1300, T + 1)).toBe(true);
    expect(l.available("sku-1")).toBe(1);
    expect(l.categoryAvailableUnits("toys")).toBe(0);
    expect(l.categoryAvailableUnits("games")).toBe(1);
    expect(l.products.get("sku-1")!.priceCents).toBe(2100);
  });

  it("ignores an inventory event older than the stock figure it has (out of order)", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 1, 2000, 1200, T + 10);
    expect(l.setInventory("sku-1", "toys", 50, 2000, 1200, T + 5)).toBe(false);
    expect(l.available("sku-1")).toBe(1);
  });

  it("takes sold units out of stock, never below zero, unless the stock figure is newer than the sale", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 3, 2000, 1200, T);
    l.sold("sku-1", 2, T + 1);
    expect(l.available("sku-1")).toBe(1);
    l.sold("sku-1", 5, T + 2);
    expect(l.products.get("sku-1")!.stock).toBe(0);
    l.setInventory("sku-1", "toys", 10, 2000, 1200, T + 100);
    l.sold("sku-1", 1, T + 50); // already counted in the shop's figure at T + 100
    expect(l.available("sku-1")).toBe(10);
    expect(l.categoryAvailableUnits("toys")).toBe(10);
  });

  it("never releases below zero reservations", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 3, 2000, 1200, T);
    l.releaseUnit("sku-1");
    expect(l.products.get("sku-1")!.reserved).toBe(0);
    expect(l.categoryAvailableUnits("toys")).toBe(3);
  });
});

describe("Ledger: budget", () => {
  it("reserves at decision, commits at most the reservation on redemption, releases the rest", () => {
    const l = new Ledger();
    l.ensureBudget("p", 1000);
    l.reserveBudget("p", 400);
    l.reserveBudget("p", 400);
    expect(l.budgetLeft("p")).toBe(200);
    expect(l.settleBudget("p", 400, 250)).toBe(250); // redeemed for 250
    expect(l.settleBudget("p", 400, 9999)).toBe(400); // a discount above the reservation is capped
    expect(l.budgets.get("p")).toEqual({ budgetCents: 1000, reservedCents: 0, spentCents: 650 });
    expect(l.budgetLeft("p")).toBe(350);
    l.reserveBudget("p", 300);
    expect(l.settleBudget("p", 300, 0)).toBe(0); // expired: released, nothing spent
    expect(l.budgetLeft("p")).toBe(350);
  });

  it("keeps spend when a budget is changed, and has no budget for an unknown promotion", () => {
    const l = new Ledger();
    l.ensureBudget("p", 1000);
    l.reserveBudget("p", 100);
    l.settleBudget("p", 100, 100);
    l.ensureBudget("p", 500);
    expect(l.budgetLeft("p")).toBe(400);
    expect(l.budgetLeft("nope")).toBe(0);
  });
});

describe("Ledger: reservations held past their decision (overflow)", () => {
  it("keeps them until their offers expire, through a checkpoint, spends a redemption from them, then releases the rest", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 5, 2000, 1200, T);
    l.ensureBudget("p", 1000);
    l.reserveBudget("p", 400);
    l.reserveUnit("sku-1", 2);
    l.hold("p", 400, "sku-1", 2, T + 10 * 60_000);
    const back = Ledger.fromJSON(JSON.parse(JSON.stringify(l.toJSON())) as ReturnType<Ledger["toJSON"]>);
    for (const x of [l, back]) {
      x.releaseHeld(T + 10 * 60_000);
      expect([x.budgetLeft("p"), x.available("sku-1"), x.categoryAvailableUnits("toys")]).toEqual([600, 3, 3]);
    }
    // A redemption while the offer is valid spends its discount and takes its units.
    back.spendHeld("p", 250, T + 5 * 60_000);
    expect(back.budgets.get("p")).toEqual({ budgetCents: 1000, reservedCents: 0, spentCents: 250 });
    expect(back.products.get("sku-1")!.reserved).toBe(0);
    // Unredeemed, it is released once its expiry (rounded up to HELD_BUCKET_MS) has passed.
    l.releaseHeld(T + 10 * 60_000 + HELD_BUCKET_MS);
    expect([l.budgetLeft("p"), l.available("sku-1"), l.held.size]).toEqual([1000, 5, 0]);
  });
});
