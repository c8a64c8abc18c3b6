// Builders for core tests of src/engine: a complete EngineConfig without reading config files, and
// events with ids and times filled in. Pure values; no I/O.
import type { EngineConfig, Promotion } from "../../src/engine/index.ts";
import type { ShopEvent } from "../../src/events/index.ts";

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
