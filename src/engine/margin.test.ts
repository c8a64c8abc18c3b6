// The margin term (issue #14): exact at a product decision, expected over the customer's categories
// without one; and the policy's scores built on it.
import { describe, expect, it } from "vitest";
import { rngFromKey } from "../random/index.ts";
import type { Decision, ShopEvent } from "../events/index.ts";
import { CustomerState, observe } from "../features/index.ts";
import { T0, engineConfig, promo } from "../../test/support/engine.ts";
import { CONTROL, Ledger, categoryWeights, createEngine, expectedMargin, step } from "./index.ts";

function ledger(): Ledger {
  const l = new Ledger();
  l.setInventory("t1", "toys", 50, 2_000, 1_000, T0);
  l.setInventory("t2", "toys", 50, 4_000, 2_000, T0);
  l.setInventory("h1", "home", 50, 1_000, 800, T0);
  return l;
}

describe("expected margin with no product known", () => {
  it("weighs the categories by the customer's views, smoothed toward the catalog", () => {
    const l = ledger();
    const c = new CustomerState();
    for (let i = 0; i < 3; i++) observe(c, { ts: T0, type: "view", category: "home" }, 4);
    const w = categoryWeights(c, l, new Map());
    // One view's worth of catalog (toys 2/3, home 1/3) plus three views of home: (2/3)/4, (1/3 + 3)/4.
    expect(w.get("toys")).toBeCloseTo(2 / 3 / 4, 12);
    expect(w.get("home")).toBeCloseTo((1 / 3 + 3) / 4, 12);
    // Control: mean margin per category (toys $15, home $2) under those weights.
    expect(expectedMargin(undefined, w, l)).toBeCloseTo((2 / 12) * 1_500 + (10 / 12) * 200, 9);
    // 10% off toys: the toys part loses 10% of the mean toy price ($30).
    expect(expectedMargin(promo("p", { kind: "percent", percentOff: 10, category: "toys", maxDiscountCents: 5_000 }), w, l)).toBeCloseTo((2 / 12) * 1_200 + (10 / 12) * 200, 9);
    // No catalog: not known (the engine then learns the amount).
    expect(expectedMargin(undefined, categoryWeights(c, new Ledger(), new Map()), new Ledger())).toBeUndefined();
  });
});

describe("scores: margin if bought × sampled conversion", () => {
  it("at a product view, gives each candidate its margin on that product and leaves out offers that do not apply or leave no margin", () => {
    const cfg = engineConfig({
      bandit: { reward: "margin", holdoutShare: 0 },
      decisionPoints: { visit: false },
      promotions: [
        promo("ship", { kind: "free-shipping", amountOffCents: 699, maxDiscountCents: 699 }),
        promo("toys10", { kind: "percent", percentOff: 10, category: "toys", maxDiscountCents: 5_000 }),
        promo("bundle", { kind: "bundle", percentOff: 15, category: "toys", maxDiscountCents: 5_000 }),
        promo("home20", { kind: "percent", percentOff: 20, category: "home", maxDiscountCents: 5_000 }),
        promo("deep", { kind: "percent", percentOff: 60, category: "toys", maxDiscountCents: 5_000 }),
      ],
    });
    const e = createEngine(cfg);
    for (const [id, c, p, k] of [["t2", "toys", 4_000, 2_000]] as const) e.ledger.setInventory(id, c, 100, p, k, T0);
    const ev: ShopEvent = { type: "view", id: "v1", ts: T0, customerId: "c", sessionId: "s", productId: "t2", category: "toys", priceCents: 4_000 };
    const d = step(e, ev, rngFromKey(1, ev.id)).flatMap((f) => (f.kind === "decision" ? [f.decision] : []))[0] as Decision;
    const margin = Object.fromEntries(d.explanation.candidates.map((c) => [c.promotionId, c.marginCents]));
    expect(margin).toEqual({ ship: 2_000 - 699, toys10: 2_000 - 400, bundle: 2 * 2_000 - 1_200, [CONTROL]: 2_000 });
    expect(d.explanation.excluded).toEqual([
      { promotionId: "home20", reason: "not-applicable" },
      { promotionId: "deep", reason: "no-margin" },
    ]);
    // Each score is its margin times a conversion draw in (0, 1).
    for (const c of d.explanation.candidates) {
      expect(c.score).toBeGreaterThan(0);
      expect(c.score).toBeLessThan(c.marginCents!);
    }
    // An offer reserves exactly its discount on this product.
    if (d.promotionId !== CONTROL) expect(d.offer!.maxDiscountCents).toBe(2_000 + (d.promotionId === "bundle" ? 2_000 : 0) - margin[d.promotionId]!);
  });
});
