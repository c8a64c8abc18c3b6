import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Ledger } from "./index.ts";

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

  it("ends with the same stock whatever order the shop's stock figures and the sales arrive in", () => {
    // Each stock figure is the shop's count at its time: a sale after it is not in it, so a figure
    // arriving after a later sale must not bring the sold units back.
    type Change = { kind: "stock"; units: number; ts: number } | { kind: "sale"; units: number; ts: number };
    const changes = fc.uniqueArray(
      fc.record({ kind: fc.constantFrom<"stock" | "sale">("stock", "sale"), units: fc.integer({ min: 0, max: 6 }), ts: fc.integer({ min: 1, max: 1_000 }) }),
      { selector: (c) => c.ts, minLength: 1, maxLength: 12 },
    );
    const apply = (cs: readonly Change[]): number => {
      const l = new Ledger();
      l.setInventory("sku-1", "toys", 4, 2000, 1200, T);
      for (const c of cs) {
        if (c.kind === "stock") l.setInventory("sku-1", "toys", c.units, 2000, 1200, T + c.ts);
        else l.sold("sku-1", c.units, T + c.ts);
      }
      expect(l.categoryAvailableUnits("toys")).toBe(l.available("sku-1"));
      return l.available("sku-1");
    };
    fc.assert(
      fc.property(changes, fc.func(fc.integer()), (cs, key) => {
        const inOrder = [...cs].sort((a, b) => a.ts - b.ts);
        const arrived = cs.map((c, i) => ({ c, k: key(i) })).sort((a, b) => a.k - b.k).map((x) => x.c);
        expect(apply(arrived)).toBe(apply(inOrder));
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });

  it("keeps the sales a late stock figure could precede, and only those (bounded by the allowed lateness)", () => {
    const l = new Ledger();
    l.setInventory("sku-1", "toys", 1_000, 2000, 1200, T);
    const lateness = 300_000;
    for (let i = 1; i <= 1_000; i++) l.sold("sku-1", 1, T + i * 1_000, T + i * 1_000 - lateness);
    expect(l.products.get("sku-1")!.sales!.length).toBe(301);
    // A figure from 100 s before the newest sale: the 101 sales since are taken out of it.
    l.setInventory("sku-1", "toys", 500, 2000, 1200, T + 900_000);
    expect(l.available("sku-1")).toBe(399);
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
