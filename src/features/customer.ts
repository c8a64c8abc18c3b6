import type { Channel } from "../events/index.ts";
import { WindowCounts, type CountedType, type WindowName } from "./windows.ts";

/** What the engine knows of one customer. Plain data so a checkpoint can serialise it. */
export class CustomerState {
  windows = new WindowCounts();
  firstSeenMs = 0;
  lastEventMs = 0;
  lastPurchaseMs = 0;
  cartValueCents = 0;
  purchases = 0;
  promoPurchases = 0;
  /** Space-saving top-K of categories viewed: parallel arrays. */
  cats: string[] = [];
  catCounts: number[] = [];
  /** Times of the latest offers per channel (newest last), trimmed to the cap. */
  offers: Partial<Record<Channel, number[]>> = {};
}

export interface FeatureVector {
  views5m: number;
  views1h: number;
  views24h: number;
  clicks5m: number;
  clicks1h: number;
  clicks24h: number;
  carts5m: number;
  carts1h: number;
  carts24h: number;
  purchases5m: number;
  purchases1h: number;
  purchases24h: number;
  minutesSinceLastEvent: number;
  minutesSinceLastPurchase: number;
  cartValueCents: number;
  purchasesTotal: number;
  priceSensitivity: number;
  topCategories: string[];
}

export interface ObservedEvent {
  type: CountedType | "visit" | "send";
  ts: number;
  category?: string | undefined;
  priceCents?: number | undefined;
  quantity?: number | undefined;
  promoted?: boolean;
}

export function observe(c: CustomerState, e: ObservedEvent, topK: number): void {
  if (c.firstSeenMs === 0 || e.ts < c.firstSeenMs) c.firstSeenMs = e.ts;
  if (e.ts > c.lastEventMs) c.lastEventMs = e.ts;
  if (e.type === "visit" || e.type === "send") return;
  c.windows.add(e.type, e.ts);
  if (e.type === "view" && e.category) bumpCategory(c, e.category, topK);
  if (e.type === "cart") c.cartValueCents += (e.priceCents ?? 0) * (e.quantity ?? 1);
  if (e.type === "purchase") {
    c.purchases++;
    if (e.promoted) c.promoPurchases++;
    if (e.ts >= c.lastPurchaseMs) {
      c.lastPurchaseMs = e.ts;
      c.cartValueCents = 0;
    }
  }
}

function bumpCategory(c: CustomerState, cat: string, topK: number): void {
  const i = c.cats.indexOf(cat);
  if (i >= 0) {
    c.catCounts[i]!++;
    return;
  }
  if (c.cats.length < topK) {
    c.cats.push(cat);
    c.catCounts.push(1);
    return;
  }
  // Space-saving (Metwally et al. 2005): replace the smallest, inheriting its count.
  let min = 0;
  for (let k = 1; k < c.catCounts.length; k++) if (c.catCounts[k]! < c.catCounts[min]!) min = k;
  c.cats[min] = cat;
  c.catCounts[min]!++;
}

const NEVER = 1e9;

export function featuresOf(c: CustomerState, nowMs: number): FeatureVector {
  const w = c.windows;
  const n = (t: CountedType, win: WindowName) => w.count(t, win, nowMs);
  const order = c.cats.map((_, i) => i).sort((a, b) => c.catCounts[b]! - c.catCounts[a]!);
  return {
    views5m: n("view", "5m"),
    views1h: n("view", "1h"),
    views24h: n("view", "24h"),
    clicks5m: n("click", "5m"),
    clicks1h: n("click", "1h"),
    clicks24h: n("click", "24h"),
    carts5m: n("cart", "5m"),
    carts1h: n("cart", "1h"),
    carts24h: n("cart", "24h"),
    purchases5m: n("purchase", "5m"),
    purchases1h: n("purchase", "1h"),
    purchases24h: n("purchase", "24h"),
    minutesSinceLastEvent: c.lastEventMs ? Math.max(0, (nowMs - c.lastEventMs) / 60_000) : NEVER,
    minutesSinceLastPurchase: c.lastPurchaseMs ? Math.max(0, (nowMs - c.lastPurchaseMs) / 60_000) : NEVER,
    cartValueCents: c.cartValueCents,
    purchasesTotal: c.purchases,
    priceSensitivity: c.purchases > 0 ? c.promoPurchases / c.purchases : 0,
    topCategories: order.map((i) => c.cats[i]!),
  };
}

/** Offers to this customer on a channel within the window ending at nowMs. */
export function offersWithin(c: CustomerState, channel: Channel, windowMs: number, nowMs: number): number {
  const list = c.offers[channel];
  if (!list) return 0;
  let n = 0;
  for (const t of list) if (t > nowMs - windowMs && t <= nowMs) n++;
  return n;
}

export function recordOffer(c: CustomerState, channel: Channel, nowMs: number, keep: number): void {
  const list = (c.offers[channel] ??= []);
  list.push(nowMs);
  list.sort((a, b) => a - b);
  while (list.length > Math.max(1, keep)) list.shift();
}

export interface CustomerJSON {
  w: number[];
  f: number;
  e: number;
  p: number;
  cart: number;
  n: number;
  np: number;
  cats: string[];
  cc: number[];
  o: Partial<Record<Channel, number[]>>;
}

export function customerToJSON(c: CustomerState): CustomerJSON {
  return { w: Array.from(c.windows.data), f: c.firstSeenMs, e: c.lastEventMs, p: c.lastPurchaseMs, cart: c.cartValueCents, n: c.purchases, np: c.promoPurchases, cats: [...c.cats], cc: [...c.catCounts], o: structuredClone(c.offers) };
}

export function customerFromJSON(j: CustomerJSON): CustomerState {
  const c = new CustomerState();
  c.windows = new WindowCounts(Int32Array.from(j.w));
  c.firstSeenMs = j.f;
  c.lastEventMs = j.e;
  c.lastPurchaseMs = j.p;
  c.cartValueCents = j.cart;
  c.purchases = j.n;
  c.promoPurchases = j.np;
  c.cats = [...j.cats];
  c.catCounts = [...j.cc];
  c.offers = structuredClone(j.o);
  return c;
}
