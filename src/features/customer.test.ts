import { describe, expect, it } from "vitest";
import { CustomerState, NEVER_MINUTES, customerFromJSON, customerToJSON, featureView, featuresOf, observe, offerFits, offersWithin, recordOffer } from "./index.ts";

const MIN = 60_000;
const T = 1_700_000_000_000;

describe("featuresOf", () => {
  it("reports minutes since the last event and the last purchase, 'never' before any", () => {
    const c = new CustomerState();
    expect(featuresOf(c, T).minutesSinceLastEvent).toBe(NEVER_MINUTES);
    observe(c, { type: "view", ts: T }, 4);
    observe(c, { type: "purchase", ts: T + 10 * MIN }, 4);
    observe(c, { type: "view", ts: T + 5 * MIN }, 4); // late, does not move the last event back
    const f = featuresOf(c, T + 40 * MIN);
    expect(f.minutesSinceLastEvent).toBe(30);
    expect(f.minutesSinceLastPurchase).toBe(30);
    expect(f.purchasesTotal).toBe(1);
  });

  it("keeps the open cart: lines after the last purchase, whatever order they arrive in", () => {
    const c = new CustomerState();
    observe(c, { type: "cart", ts: T, priceCents: 1000, quantity: 2 }, 4);
    observe(c, { type: "cart", ts: T + 2 * MIN, priceCents: 500 }, 4);
    expect(featuresOf(c, T + 3 * MIN).cartValueCents).toBe(2500);
    // The purchase at T + 1 min arrives late: it bought the first line, not the one added after it.
    observe(c, { type: "purchase", ts: T + MIN }, 4);
    expect(featuresOf(c, T + 3 * MIN).cartValueCents).toBe(500);
    // A cart line from before that purchase arriving now was bought with it.
    observe(c, { type: "cart", ts: T + 30_000, priceCents: 900 }, 4);
    expect(featuresOf(c, T + 3 * MIN).cartValueCents).toBe(500);
    observe(c, { type: "purchase", ts: T + 5 * MIN }, 4);
    expect(featuresOf(c, T + 6 * MIN).cartValueCents).toBe(0);
  });

  it("takes a removed line out of the open cart: the newest of that value at or before the removal, not counted as an add", () => {
    const c = new CustomerState();
    observe(c, { type: "cart", ts: T, priceCents: 1000, quantity: 2 }, 4); // 2000
    observe(c, { type: "cart", ts: T + MIN, priceCents: 500 }, 4); // 500
    observe(c, { type: "cart", ts: T + 2 * MIN, priceCents: 2000, quantity: 1 }, 4); // 2000, the newest of that value
    observe(c, { type: "cart", ts: T + 3 * MIN, priceCents: 1000, quantity: 2, action: "remove" }, 4);
    expect(c.cartLines).toEqual([{ ts: T, cents: 2000 }, { ts: T + MIN, cents: 500 }]);
    expect(featuresOf(c, T + 4 * MIN).cartValueCents).toBe(2500);
    // Adds only in the windows; the removal is still the customer's latest activity.
    expect(featuresOf(c, T + 4 * MIN).carts5m).toBe(3);
    expect(c.lastEventMs).toBe(T + 3 * MIN);
    // A removal dated before the only line of its value (out of order) takes nothing: lines at or before it only.
    observe(c, { type: "cart", ts: T + 30_000, priceCents: 500, action: "remove" }, 4);
    expect(featuresOf(c, T + 4 * MIN).cartValueCents).toBe(2500);
    // One of a value no line has takes nothing either.
    observe(c, { type: "cart", ts: T + 5 * MIN, priceCents: 999, action: "remove" }, 4);
    expect(featuresOf(c, T + 5 * MIN).cartValueCents).toBe(2500);
    // An explicit add is an add.
    observe(c, { type: "cart", ts: T + 6 * MIN, priceCents: 500, action: "add" }, 4);
    observe(c, { type: "cart", ts: T + 7 * MIN, priceCents: 500, action: "remove" }, 4);
    expect(c.cartLines).toEqual([{ ts: T, cents: 2000 }, { ts: T + MIN, cents: 500 }]);
    // After a purchase emptied the cart there is nothing to take out.
    observe(c, { type: "purchase", ts: T + 8 * MIN }, 4);
    observe(c, { type: "cart", ts: T + 9 * MIN, priceCents: 1000, quantity: 2, action: "remove" }, 4);
    expect(featuresOf(c, T + 9 * MIN).cartValueCents).toBe(0);
    expect(featuresOf(c, T + 9 * MIN).carts5m).toBe(1);
  });

  it("keeps the cart's value when it merges old lines past the bound", () => {
    const c = new CustomerState();
    for (let i = 0; i < 100; i++) observe(c, { type: "cart", ts: T + i * 1000, priceCents: 100 }, 4);
    expect(c.cartLines.length).toBeLessThanOrEqual(32);
    expect(featuresOf(c, T + 200_000).cartValueCents).toBe(10_000);
  });

  it("ranks categories by views (category affinity) and reports price sensitivity", () => {
    const c = new CustomerState();
    for (const cat of ["toys", "books", "toys", "home", "toys", "books"]) observe(c, { type: "view", ts: T, category: cat }, 2);
    const f = featuresOf(c, T);
    expect(f.topCategories).toHaveLength(2);
    expect(f.topCategories[0]).toBe("toys");
    expect(f.topCategoryShare).toBeGreaterThan(0.4);
    expect(f.priceSensitivity).toBe(0);
    observe(c, { type: "purchase", ts: T, promoted: true }, 2);
    observe(c, { type: "purchase", ts: T + 1, promoted: false }, 2);
    observe(c, { type: "purchase", ts: T + 2, promoted: true }, 2);
    observe(c, { type: "purchase", ts: T + 3 }, 2);
    expect(featuresOf(c, T + 4).priceSensitivity).toBe(0.5);
  });

  it("counts window features in event time", () => {
    const c = new CustomerState();
    observe(c, { type: "click", ts: T }, 4);
    observe(c, { type: "click", ts: T + 10 * MIN }, 4);
    const f = featuresOf(c, T + 11 * MIN);
    expect(f.clicks5m).toBe(1);
    expect(f.clicks1h).toBe(2);
  });
});

describe("frequency caps", () => {
  const W = 60 * MIN;

  it("allows at most maxOffers in any window, also for a decision that arrives late", () => {
    const c = new CustomerState();
    recordOffer(c, "web", T + 40 * MIN, 2, 0);
    recordOffer(c, "web", T + 50 * MIN, 2, 0);
    // A third at T + 55 min would put 3 in (T − 5 min, T + 55 min].
    expect(offerFits(c, "web", T + 55 * MIN, 2, W)).toBe(false);
    // A late decision at T + 5 min: (T − 5, T + 55] would hold it and both others.
    expect(offerFits(c, "web", T + 5 * MIN, 2, W)).toBe(false);
    // One that is far enough from both: at T − 30 min, the windows holding it hold at most one other.
    expect(offerFits(c, "web", T - 30 * MIN, 2, W)).toBe(true);
    // A window is half-open, length W: offers exactly W apart do not share one (T − 10 min and
    // T + 50 min), 1 ms less and they do (with T + 40 min, three in one window).
    expect(offerFits(c, "web", T - 10 * MIN, 2, W)).toBe(true);
    expect(offerFits(c, "web", T - 10 * MIN + 1, 2, W)).toBe(false);
    expect(offersWithin(c, "web", W, T + 60 * MIN)).toBe(2);
    expect(offerFits(c, "email", T, 1, W)).toBe(true);
    expect(offerFits(c, "email", T, 0, W)).toBe(false);
  });

  it("forgets offers older than the horizon it is given, keeping them sorted", () => {
    const c = new CustomerState();
    for (const m of [30, 10, 20, 0]) recordOffer(c, "sms", T + m * MIN, 1, T + 5 * MIN);
    expect(c.offers.sms).toEqual([T + 10 * MIN, T + 20 * MIN, T + 30 * MIN]);
  });
});

describe("featureView", () => {
  it("reads the same values as featuresOf", () => {
    const c = new CustomerState();
    const t = (m: number) => T + m * MIN;
    observe(c, { type: "view", ts: t(0), category: "toys" }, 4);
    observe(c, { type: "view", ts: t(3), category: "home" }, 4);
    observe(c, { type: "click", ts: t(50) }, 4);
    observe(c, { type: "cart", ts: t(55), priceCents: 700 }, 4);
    observe(c, { type: "purchase", ts: t(58), promoted: true }, 4);
    observe(c, { type: "cart", ts: t(59), priceCents: 300 }, 4);
    for (const now of [t(59), t(62), t(200), t(2000)]) {
      const full = featuresOf(c, now);
      const view = featureView(c, now);
      for (const k of Object.keys(full) as (keyof typeof full)[]) expect(view[k], k).toEqual(full[k]);
    }
  });
});

describe("customerToJSON / customerFromJSON", () => {
  it("round-trips a customer, and still reads the dense windows of older checkpoints", () => {
    const c = new CustomerState();
    observe(c, { type: "view", ts: T, category: "toys" }, 4);
    observe(c, { type: "cart", ts: T + MIN, category: "toys", priceCents: 1200, quantity: 1 }, 4);
    recordOffer(c, "web", T + 2 * MIN, 4);
    const j = customerToJSON(c);
    const back = customerFromJSON(JSON.parse(JSON.stringify(j)));
    expect(featuresOf(back, T + 3 * MIN)).toEqual(featuresOf(c, T + 3 * MIN));
    expect(Array.from(back.windows.data)).toEqual(Array.from(c.windows.data));
    const { ws: _ws, ...old } = j;
    const dense = customerFromJSON({ ...old, w: Array.from(c.windows.data) });
    expect(Array.from(dense.windows.data)).toEqual(Array.from(c.windows.data));
    // The copy is detached: a new offer on the original does not reach the restored one.
    recordOffer(c, "web", T + 4 * MIN, 4);
    expect(offersWithin(back, "web", 60 * MIN, T + 5 * MIN)).toBe(1);
  });
});
