// Attribution: a decision waits for its outcome; a purchase by that customer within the channel's
// window closes it as a success, the end of the window (plus the allowed lateness) as a failure,
// and overflow of the pending table closes the oldest early without learning from it.
import { describe, expect, it } from "vitest";
import { rngFromKey } from "../random/index.ts";
import type { Decision, ShopEvent } from "../events/index.ts";
import { MIN, T0, engineConfig, ev, promo } from "../../test/support/engine.ts";
import { Value } from "@sinclair/typebox/value";
import { OutcomeSchema } from "../events/index.ts";
import { CONTROL, PendingTable, cellOf, createEngine, outcomeRecord, step, type Effect, type Engine, type EngineConfig, type Outcome, type Pending } from "./index.ts";

/** The tabular model's cell of a visit decision in the one segment these tests use. */
const CELL = cellOf("visit", "all");

const run = (e: Engine, x: ShopEvent): Effect[] => step(e, x, rngFromKey(e.cfg.seed, x.id));
const decisions = (fx: Effect[]): Decision[] => fx.flatMap((f) => (f.kind === "decision" ? [f.decision] : []));
const outcomes = (fx: Effect[]): Outcome[] => fx.flatMap((f) => (f.kind === "outcome" ? [f.outcome] : []));

/** One promotion, no holdout: every decision offers "p" (control's posterior is kept far below). */
function engine(over: Parameters<typeof engineConfig>[0] = {}, budgetCents = 10_000): Engine {
  const cfg: EngineConfig = engineConfig({ promotions: [promo("p", { amountOffCents: 400, maxDiscountCents: 400, budgetCents })], ...over, bandit: { holdoutShare: 0, ...over.bandit } });
  const e = createEngine(cfg);
  // Control's posterior far below p's even when p holds a few provisional failures (Beta(1, 3)).
  for (let i = 0; i < 200_000; i++) e.arms.update(CONTROL, CELL, 0, T0);
  return e;
}

describe("PendingTable", () => {
  const p = (id: string, customerId: string, ts: number, expiresAt: number): Pending => ({
    decisionId: id,
    customerId,
    channel: "web",
    promotionId: "p",
    segment: "all",
    cell: CELL,
    point: "visit",
    holdout: false,
    propensity: 1,
    learn: true,
    seq: 0,
    ts,
    expiresAt,
    reservedCents: 0,
    closed: false,
  });

  it("finds a customer's open decisions whose window holds a time, and pops expired ones in order", () => {
    const t = new PendingTable();
    const a = p("a", "c1", 100, 200);
    const b = p("b", "c1", 150, 300);
    const c = p("c", "c2", 120, 180);
    [a, b, c].forEach((x) => t.add(x));
    expect(t.openAt("c1", 160).map((x) => x.decisionId)).toEqual(["a", "b"]);
    expect(t.openAt("c1", 120).map((x) => x.decisionId)).toEqual(["a"]); // b was decided later
    expect(t.openAt("c1", 250).map((x) => x.decisionId)).toEqual(["b"]);
    t.close(a);
    expect(t.open).toBe(2);
    expect(t.popExpired(190)?.decisionId).toBe("c");
    expect(t.popExpired(250)).toBeUndefined(); // a is closed, b not expired
    expect(t.popOldest()?.decisionId).toBe("b");
    expect(t.popOldest()).toBeUndefined();
  });
});

describe("attribution through step", () => {
  it("closes a decision as a success when the customer buys within the window, and commits the redeemed discount", () => {
    const e = engine();
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    expect(d!.promotionId).toBe("p");
    expect(e.ledger.budgets.get("p")!.reservedCents).toBe(400);
    const fx = run(e, ev.purchase({ ts: T0 + 10 * MIN, customerId: "c1", totalCents: 5_000, discountCents: 400, promotionId: "p", decisionId: d!.id }));
    const [o] = outcomes(fx);
    expect(o).toMatchObject({ decisionId: d!.id, converted: true, reward: 1, cause: "purchase", discountCents: 400, learn: true });
    expect(e.ledger.budgets.get("p")).toEqual({ budgetCents: 10_000, reservedCents: 0, spentCents: 400 });
    expect(e.pending.open).toBe(0);
    // The posterior learned one success in the customer's segment.
    expect(e.arms.observations("p", CELL, T0 + 10 * MIN)).toBeCloseTo(1, 6);
  });

  it("credits one purchase to one decision: the one it redeemed, else the newest (last touch) when none was made for its products", () => {
    const e = engine();
    const [first] = decisions(run(e, ev.visit("c1", T0)));
    const [second] = decisions(run(e, ev.visit("c1", T0 + 5 * MIN)));
    expect(e.pending.open).toBe(2);
    // A purchase without a redemption goes to the newest open decision only.
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 + 8 * MIN, customerId: "c1", totalCents: 2_000 })));
    expect(o!.decisionId).toBe(second!.id);
    expect(e.pending.open).toBe(1);
    // A redemption naming a decision goes to that one, even if it is not the newest.
    const [third] = decisions(run(e, ev.visit("c1", T0 + 9 * MIN)));
    const [r] = outcomes(run(e, ev.purchase({ ts: T0 + 10 * MIN, customerId: "c1", totalCents: 2_000, discountCents: 400, promotionId: "p", decisionId: first!.id })));
    expect(r!.decisionId).toBe(first!.id);
    expect(r!.discountCents).toBe(400);
    expect(e.pending.openAt("c1", T0 + 10 * MIN).map((p) => p.decisionId)).toEqual([third!.id]);
  });

  it("does not credit a purchase made before the decision, nor by another customer", () => {
    const e = engine();
    run(e, ev.visit("c1", T0 + 2 * MIN));
    expect(outcomes(run(e, ev.purchase({ ts: T0 + MIN, customerId: "c1", totalCents: 100 })))).toEqual([]);
    expect(outcomes(run(e, ev.purchase({ ts: T0 + 3 * MIN, customerId: "c2", totalCents: 100 })))).toEqual([]);
    expect(e.pending.open).toBe(1);
  });

  it("credits a redemption naming its decision to it though the purchase is stamped a little before it (another clock), spending its budget", () => {
    const e = engine();
    // The decision's event stamped by the server at T0, the purchase by the shop's clock, 2 s behind.
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 - 2_000, customerId: "c1", totalCents: 5_000, discountCents: 400, promotionId: "p", decisionId: d!.id })));
    expect(o).toMatchObject({ decisionId: d!.id, cause: "purchase", closedBy: "redeemed", discountCents: 400 });
    // The discount the shop gave is spent from the budget, not released when the window ends.
    expect(e.ledger.budgets.get("p")).toEqual({ budgetCents: 10_000, reservedCents: 0, spentCents: 400 });
  });

  it("closes a decision as a failure once event time passes its window plus the allowed lateness, and releases the reservation", () => {
    const e = engine();
    e.ledger.setInventory("sku", "toys", 10, 2_000, 1_000, T0);
    const cfgWindow = e.cfg.attributionWindowMs.web;
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    // Inside window + lateness: still open.
    expect(outcomes(run(e, ev.view("c2", T0 + cfgWindow + 4 * MIN)))).toEqual([]);
    const fx = run(e, ev.view("c2", T0 + cfgWindow + 6 * MIN));
    const [o] = outcomes(fx);
    expect(o).toMatchObject({ decisionId: d!.id, converted: false, reward: 0, cause: "expired", ts: d!.expiresAt });
    expect(e.ledger.budgets.get("p")!.reservedCents).toBe(0);
    // The failure was counted when the decision was made (a provisional failure), so by the window's
    // end (30 min later) it has decayed a little: 2^(-30 min / 7 days) ≈ 0.998.
    expect(e.arms.posterior("p", CELL, d!.expiresAt).beta).toBeCloseTo(1 + Math.pow(2, -cfgWindow / e.cfg.bandit.halfLifeMs), 6);
    // A purchase after the window credits nothing.
    expect(outcomes(run(e, ev.purchase({ ts: T0 + cfgWindow + 7 * MIN, customerId: "c1", totalCents: 100 })))).toEqual([]);
  });

  it("closes the oldest decision early when the pending table overflows, teaching nothing", () => {
    const e = engine({ maxPending: 2 });
    const before = e.arms.posterior("p", CELL, T0);
    const ids = [0, 1].map((i) => decisions(run(e, ev.visit(`c${i}`, T0 + i)))[0]!.id);
    const fx = run(e, ev.visit("c2", T0 + 2));
    const [o] = outcomes(fx);
    expect(o).toMatchObject({ decisionId: ids[0], cause: "overflow", learn: false, converted: false });
    expect(e.counters.overflowed).toBe(1);
    expect(e.pending.open).toBe(2);
    // Its offer may still be used: all three reservations stay until it expires.
    expect(e.ledger.budgets.get("p")!.reservedCents).toBe(1_200);
    // The two open decisions count as provisional failures; the overflowed one's was taken back.
    const after = e.arms.posterior("p", CELL, T0 + 2);
    expect(after.alpha).toBe(before.alpha);
    expect(after.beta - before.beta).toBeCloseTo(2, 6);
  });

  it("keeps an overflowed decision's reservations until its offer expires: the shop may still honour it, so its budget and units are not promised again", () => {
    // Budget for two offers of 400; p2's product has 4 units and a reserve of 2: two offers of one unit.
    const cfg = engineConfig({ maxPending: 1, bandit: { holdoutShare: 0 }, promotions: [promo("p", { amountOffCents: 400, maxDiscountCents: 400, budgetCents: 800 }), promo("p2", { amountOffCents: 100, maxDiscountCents: 100, productId: "sku", budgetCents: 100_000 })] });
    const e = createEngine(cfg);
    for (let i = 0; i < 200_000; i++) e.arms.update(CONTROL, CELL, 0, T0);
    e.ledger.setInventory("sku", "toys", 4, 2_000, 1_000, T0);
    // p's decisions are the ones to count; p2 is offered only where p is not (its own score kept lower).
    for (let i = 0; i < 100; i++) e.arms.update("p2", CELL, 0, T0);
    const [d0] = decisions(run(e, ev.visit("c0", T0)));
    const [d1] = decisions(run(e, ev.visit("c1", T0 + 1)));
    expect([d0!.promotionId, d1!.promotionId]).toEqual(["p", "p"]);
    expect(e.counters.overflowed).toBe(1);
    // d0 left the table, but its offer is valid until d0.expiresAt: both offers' 800 stay reserved.
    expect(e.ledger.budgetLeft("p")).toBe(0);
    const [d2] = decisions(run(e, ev.visit("c2", T0 + 2)));
    expect(d2!.promotionId).not.toBe("p");
    expect(d2!.explanation.excluded).toContainEqual({ promotionId: "p", reason: "budget-spent" });
    // The same for units: two offers of p2 hold the two units above the reserve, one of them overflowed.
    const [d3] = decisions(run(e, ev.visit("c3", T0 + 3)));
    expect([d2!.promotionId, d3!.promotionId]).toEqual(["p2", "p2"]);
    expect(e.ledger.available("sku")).toBe(2);
    expect(decisions(run(e, ev.visit("c4", T0 + 4)))[0]!.explanation.excluded).toContainEqual({ promotionId: "p2", reason: "out-of-stock" });
    // d0's shopper redeems it: the discount the shop gave is spent from the budget, and d1's 400 stay held.
    expect(outcomes(run(e, ev.purchase({ ts: T0 + 10 * MIN, customerId: "c0", totalCents: 5_000, discountCents: 300, promotionId: "p", decisionId: d0!.id })))).toEqual([]);
    expect(e.ledger.budgets.get("p")).toEqual({ budgetCents: 800, reservedCents: 400, spentCents: 300 });
    // Once every offer has expired (window, allowed lateness), nothing is held: 300 spent, the rest free.
    run(e, ev.tick(T0 + 2 * 60 * MIN));
    expect(e.ledger.budgets.get("p")).toEqual({ budgetCents: 800, reservedCents: 0, spentCents: 300 });
    expect(e.ledger.products.get("sku")!.reserved).toBe(0);
  });

  it("takes a redeemed product offer's units out of stock though the purchase lists no items (they are optional)", () => {
    const cfg = engineConfig({ bandit: { holdoutShare: 0 }, promotions: [promo("p2", { amountOffCents: 100, maxDiscountCents: 100, productId: "sku", budgetCents: 100_000 })] });
    const e = createEngine(cfg);
    for (let i = 0; i < 200_000; i++) e.arms.update(CONTROL, CELL, 0, T0);
    e.ledger.setInventory("sku", "toys", 5, 2_000, 1_000, T0);
    const [d] = decisions(run(e, ev.visit("c0", T0)));
    expect(d!.promotionId).toBe("p2");
    expect(e.ledger.available("sku")).toBe(4);
    // Redeemed (a Segment order without products[]): the unit was sold, not given back.
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 + MIN, customerId: "c0", totalCents: 1_900, discountCents: 100, promotionId: "p2", decisionId: d!.id })));
    expect(o!.closedBy).toBe("redeemed");
    expect([e.ledger.available("sku"), e.ledger.categoryAvailableUnits("toys")]).toEqual([4, 4]);
    // Listed, it is taken once.
    const [d2] = decisions(run(e, ev.visit("c1", T0 + 2 * MIN)));
    run(e, ev.purchase({ ts: T0 + 3 * MIN, customerId: "c1", totalCents: 1_900, discountCents: 100, promotionId: "p2", decisionId: d2!.id, items: [{ productId: "sku", quantity: 1, priceCents: 2_000 }] }));
    expect(e.ledger.available("sku")).toBe(3);
  });

  it("holds no more than about twice maxPending decisions when purchases close them long before their window ends", () => {
    const e = engine({ maxPending: 20, frequencyCaps: { email: { maxOffers: 100_000, windowMs: MIN } } }, 10_000_000);
    // One email decision that never converts: open for 48 h, the first in the expiry order.
    run(e, ev.send("never", "email", T0));
    // Then 2,000 shoppers, each buying a minute after their email (ids never repeat).
    for (let i = 0; i < 2_000; i++) {
      run(e, ev.send(`c${i}`, "email", T0 + i * MIN));
      run(e, ev.purchase({ ts: T0 + i * MIN + 1, customerId: `c${i}`, totalCents: 1_000 }));
    }
    expect(e.pending.open).toBe(1);
    expect(e.pending.held).toBeLessThanOrEqual(2 * 20 + 64);
    // What stays open still expires when its window ends.
    const [o] = outcomes(run(e, ev.tick(T0 + 48 * 60 * MIN + 6 * MIN)));
    expect(o).toMatchObject({ customerId: "never", cause: "expired" });
    expect(e.pending.held).toBe(0);
  });

  it("counts a decision as a failure until it converts, then as a success", () => {
    const e = engine({ bandit: { halfLifeMs: 0 } });
    const before = e.arms.posterior("p", CELL, T0);
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    expect(e.arms.posterior("p", CELL, T0)).toEqual({ alpha: before.alpha, beta: before.beta + 1 });
    run(e, ev.purchase({ ts: T0 + MIN, customerId: "c1", totalCents: 1_000, decisionId: d!.id }));
    expect(e.arms.posterior("p", CELL, T0 + MIN)).toEqual({ alpha: before.alpha + 1, beta: before.beta });
  });

  it("learns conversion, not margin: a purchase is a success whatever it earned, and the outcome reports what it earned", () => {
    // Margin is known when the decision is made (margin if bought × conversion, issue #14): the model
    // learns only whether the shopper bought. 20,000 − 12,000 − 400 = 7,600 cents of margin.
    const e = engine({ bandit: { reward: "margin", halfLifeMs: 0 } }, 1e9);
    e.ledger.setInventory("sku", "toys", 1_000_000, 20_000, 12_000, T0);
    const before = e.arms.posterior("p", CELL, T0);
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 + 1, customerId: "c1", totalCents: 19_600, discountCents: 400, promotionId: "p", decisionId: d!.id, items: [{ productId: "sku", quantity: 1, priceCents: 20_000 }] })));
    expect(o).toMatchObject({ converted: true, reward: 1, marginCents: 7_600, discountCents: 400 });
    expect(e.arms.posterior("p", CELL, T0 + 1)).toEqual({ alpha: before.alpha + 1, beta: before.beta });
  });

  it("never reports more margin than was paid: item lines contradicting the total are capped at it", () => {
    // 10,000 units at $10M each on a 1-cent order: every field within the schema, the lines absurd.
    const e = engine({ bandit: { reward: "margin" } }, 1e9);
    const [d] = decisions(run(e, ev.visit("c1", T0)));
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 + 1, customerId: "c1", totalCents: 1, decisionId: d!.id, items: [{ productId: "sku-x", quantity: 10_000, priceCents: 1_000_000_000 }] })));
    expect(o).toMatchObject({ converted: true, revenueCents: 1, marginCents: 1 });
  });

  it("prices a redemption's margin the same with or without its items: totalCents is what was paid after the discount", () => {
    // A $100 order (cost unknown: bandit.defaultMarginShare 0.3 of the price) with $4 off, paid $96:
    // margin 100 × 0.3 − 4 = $26, whether the purchase lists its items or not (they are optional).
    const buy = (customerId: string, withItems: boolean) => {
      const e = engine();
      const [d] = decisions(run(e, ev.visit(customerId, T0)));
      const items = withItems ? { items: [{ productId: "sku-unknown", quantity: 1, priceCents: 10_000 }] } : {};
      return outcomes(run(e, ev.purchase({ ts: T0 + MIN, customerId, totalCents: 9_600, discountCents: 400, promotionId: "p", decisionId: d!.id, ...items })))[0]!;
    };
    expect(buy("c1", true)).toMatchObject({ closedBy: "redeemed", marginCents: 2_600 });
    expect(buy("c2", false)).toMatchObject({ closedBy: "redeemed", marginCents: 2_600 });
  });

  it("credits a purchase without a redemption to the decision made for the product it contains, not to a later one", () => {
    // Two product views in two visits, each with its decision; the shopper then buys the first product
    // at full price. Last touch would credit the second decision (made for another product).
    const e = engine();
    e.ledger.setInventory("sku-a", "toys", 100, 2_000, 1_000, T0);
    e.ledger.setInventory("sku-b", "toys", 100, 3_000, 1_500, T0);
    const view = (id: string, ts: number, productId: string, sessionId: string): ShopEvent => ({ type: "view", id, ts, customerId: "c1", productId, sessionId });
    const [a] = decisions(run(e, view("v1", T0, "sku-a", "s1")));
    const [b] = decisions(run(e, view("v2", T0 + MIN, "sku-b", "s2")));
    expect([a!.point, a!.productId, b!.productId]).toEqual(["product-view", "sku-a", "sku-b"]);
    const [o] = outcomes(run(e, ev.purchase({ ts: T0 + 5 * MIN, customerId: "c1", totalCents: 2_000, items: [{ productId: "sku-a", quantity: 1, priceCents: 2_000 }] })));
    expect(o!.decisionId).toBe(a!.id);
  });
});

describe("outcomes as the contract publishes them", () => {
  it("says how the decision closed, with its propensity, times, revenue, margin and discount, and is valid against the schema", () => {
    const e = engine();
    e.ledger.setInventory("sku", "toys", 100, 2_000, 1_200, T0);
    const [a] = decisions(run(e, ev.visit("c1", T0)));
    const [b] = decisions(run(e, ev.visit("c2", T0 + 1)));
    const [o1] = outcomes(run(e, ev.purchase({ ts: T0 + MIN, customerId: "c1", totalCents: 1_600, discountCents: 400, promotionId: "p", decisionId: a!.id, items: [{ productId: "sku", quantity: 1, priceCents: 2_000 }] })));
    const r1 = outcomeRecord(o1!);
    expect(r1).toMatchObject({ id: `o-${a!.id}`, decisionId: a!.id, eventId: a!.eventId, closedBy: "redeemed", propensity: a!.propensity, openedAt: T0, closedAt: T0 + MIN, revenueCents: 1_600, marginCents: 400, discountCents: 400, reward: 1, learned: true });
    expect(Value.Check(OutcomeSchema, r1)).toBe(true);
    // b ends with its window: expired, nothing earned.
    const [o2] = outcomes(run(e, ev.tick(T0 + 40 * MIN)));
    const r2 = outcomeRecord(o2!);
    expect(r2).toMatchObject({ decisionId: b!.id, closedBy: "expired", revenueCents: 0, marginCents: 0, reward: 0, closedAt: b!.expiresAt });
    expect(Value.Check(OutcomeSchema, r2)).toBe(true);
  });
});
