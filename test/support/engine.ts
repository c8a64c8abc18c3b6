// Builders for core tests of src/engine: a complete EngineConfig without reading config files, and
// events with ids and times filled in. Pure values; no I/O.
import type { EngineConfig, Promotion } from "../../src/engine/index.ts";
import type { ShopEvent } from "../../src/events/index.ts";
import { rngFromSeed } from "../../src/random/index.ts";

export const MIN = 60_000;
export const HOUR = 60 * MIN;
/** 2026-03-02T08:00:00Z, a round hour. */
export const T0 = Date.parse("2026-03-02T08:00:00.000Z");

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function engineConfig(over: DeepPartial<EngineConfig> = {}): EngineConfig {
  const base: EngineConfig = {
    seed: 1,
    promotions: [],
    segments: [],
    features: { maxCustomers: 10_000, idleTtlMs: 48 * HOUR, allowedLatenessMs: 5 * MIN, maxFutureSkewMs: 24 * HOUR, topCategories: 4, recentEventIds: 100_000 },
    decisionPoints: { visit: true, productView: { enabled: true, minViews: 1, maxPerVisit: 1 }, cart: false, visitGapMs: 30 * MIN },
    bandit: {
      model: "tabular",
      holdoutShare: 0.1,
      priorAlpha: 1,
      priorBeta: 1,
      hierarchyStrength: 20,
      halfLifeMs: 7 * 24 * HOUR,
      propensityDraws: 64,
      propensityMethod: "quadrature",
      propensityNodes: 12,
      reward: "conversion",
      defaultMarginShare: 0.3,
      logistic: { priorSd: 1, armPriorSd: 0.5, priorConversion: 0.1 },
    },
    attributionWindowMs: { web: 30 * MIN, email: 48 * HOUR, sms: 24 * HOUR, push: 12 * HOUR },
    maxPending: 100_000,
    stockReserve: 2,
    frequencyCaps: {
      web: { maxOffers: 4, windowMs: HOUR },
      email: { maxOffers: 1, windowMs: 24 * HOUR },
      sms: { maxOffers: 1, windowMs: 24 * HOUR },
      push: { maxOffers: 2, windowMs: 24 * HOUR },
    },
  };
  return {
    ...base,
    ...over,
    features: { ...base.features, ...over.features },
    decisionPoints: { ...base.decisionPoints, ...over.decisionPoints, productView: { ...base.decisionPoints.productView, ...over.decisionPoints?.productView } },
    bandit: { ...base.bandit, ...over.bandit, logistic: { ...base.bandit.logistic, ...over.bandit?.logistic } },
    attributionWindowMs: { ...base.attributionWindowMs, ...over.attributionWindowMs },
    frequencyCaps: { ...base.frequencyCaps, ...over.frequencyCaps } as EngineConfig["frequencyCaps"],
    promotions: (over.promotions ?? base.promotions) as Promotion[],
    segments: (over.segments ?? base.segments) as EngineConfig["segments"],
  };
}

export function promo(id: string, over: Partial<Promotion> = {}): Promotion {
  return {
    id,
    name: id,
    kind: "amount",
    amountOffCents: 500,
    channels: ["web", "email", "sms", "push"],
    budgetCents: 1_000_000,
    maxDiscountCents: 500,
    startsAtMs: -Infinity,
    endsAtMs: Infinity,
    ...over,
  };
}

let n = 0;
const nextId = (p: string) => `${p}-${++n}`;

type Without<E, K extends keyof E> = Omit<E, K> & Partial<Pick<E, K>>;

export const ev = {
  visit: (customerId: string, ts: number, id = nextId("visit")): ShopEvent => ({ type: "visit", id, ts, customerId, channel: "web" }),
  send: (customerId: string, channel: "email" | "sms" | "push", ts: number, id = nextId("send")): ShopEvent => ({ type: "send", id, ts, customerId, channel }),
  view: (customerId: string, ts: number, category?: string, id = nextId("view")): ShopEvent => ({ type: "view", id, ts, customerId, ...(category ? { category } : {}) }),
  cart: (customerId: string, ts: number, productId: string, priceCents: number, id = nextId("cart")): ShopEvent => ({ type: "cart", id, ts, customerId, productId, quantity: 1, priceCents }),
  purchase: (p: Without<Extract<ShopEvent, { type: "purchase" }>, "type" | "id">): ShopEvent => ({ type: "purchase", id: nextId("buy"), ...p }),
  /**
   * Event time moving on for the whole stream. One customer's event moves the engine's clock by at most
   * the allowed lateness; a larger jump waits for three customers (src/engine/intake.ts, CLOCK_QUORUM),
   * while the shop's own inventory feed is taken at its word: an inventory event of a product no test offers.
   */
  tick: (ts: number, id = nextId("tick")): ShopEvent => ({ type: "inventory", id, ts, productId: "clock-tick", category: "clock-tick", stock: 0, priceCents: 1, costCents: 1 }),
  inventory: (productId: string, category: string, stock: number, ts: number, priceCents = 2_000, costCents = 1_200, id = nextId("inv")): ShopEvent => ({
    type: "inventory",
    id,
    ts,
    productId,
    category,
    stock,
    priceCents,
    costCents,
  }),
};

/** A seeded stream of shop events: inventory, visits, sends, views, carts, purchases (some promoted). */
export function shopEvents(seed: number, n: number): ShopEvent[] {
  const r = rngFromSeed(seed);
  const cats = ["electronics", "home", "toys", "fashion"];
  const out: ShopEvent[] = [];
  let ts = Date.parse("2026-03-02T08:00:00Z");
  for (let i = 1; i <= 10; i++)
    out.push({ type: "inventory", id: `inv-${i}`, ts, productId: `sku-00${i - 1}`, category: cats[i % 4]!, stock: 5 + Math.floor(r.next() * 20), priceCents: 1000 + Math.floor(r.next() * 5000), costCents: 800 });
  const promos = ["pct10-electronics", "amt5-home", "free-shipping", "pct30-fashion", "bundle-toys"];
  for (let i = 0; out.length < n; i++) {
    ts += Math.floor(r.next() * 20_000);
    const c = `c${Math.floor(r.next() * 60)}`;
    const u = r.next();
    const id = `e${i}`;
    const sku = `sku-00${Math.floor(r.next() * 10)}`;
    if (u < 0.3) out.push({ type: "visit", id, ts, customerId: c, channel: "web" });
    else if (u < 0.35) out.push({ type: "send", id, ts, customerId: c, channel: r.next() < 0.5 ? "email" : "push" });
    else if (u < 0.6) out.push({ type: "view", id, ts, customerId: c, productId: sku });
    else if (u < 0.75) out.push({ type: "cart", id, ts, customerId: c, productId: sku, quantity: 1, priceCents: 2500 });
    else if (u < 0.85) {
      const promoted = r.next() < 0.5;
      out.push({ type: "purchase", id, ts, customerId: c, totalCents: 2500, items: [{ productId: sku, quantity: 1, priceCents: 2500 }], ...(promoted ? { promotionId: promos[Math.floor(r.next() * promos.length)]!, discountCents: 300 } : {}) });
    } else if (u < 0.9) out.push({ type: "view", id, ts: ts - 400_000, customerId: c }); // late (beyond 300 s)
    else out.push({ type: "inventory", id, ts, productId: sku, category: "toys", stock: Math.floor(r.next() * 8), priceCents: 2500, costCents: 1500 });
  }
  return out;
}
