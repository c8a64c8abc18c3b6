import type { Channel } from "../events/index.ts";
import { WindowCounts, type CountedType, type WindowName } from "./windows.ts";

/** Cart lines kept per customer; beyond it the two oldest merge (their sum stays in the value). */
const MAX_CART_LINES = 32;
/** Products tracked per visit for the product-view trigger; beyond it the visit's first ones are forgotten. */
const MAX_VISIT_PRODUCTS = 16;
/**
 * Visits remembered per customer. A shopper can have two visits open at once (a second tab, a quick
 * return while the first visit's pages still load): their events interleave, and forgetting the first
 * visit at the second's first event would make its next view a "new visit" with a decision of its own.
 */
const MAX_OPEN_VISITS = 4;

/** One visit's product-view bookkeeping. */
export interface VisitState {
  /** The session id, or "" for a visit inferred from a gap. */
  key: string;
  /** Products viewed since the visit's last purchase, with their view counts. */
  products: string[];
  views: number[];
  /** Products the visit already had a decision for. */
  decided: string[];
}

/** What the engine knows of one customer. Plain data so a checkpoint can serialise it. */
export class CustomerState {
  windows = new WindowCounts();
  firstSeenMs = 0;
  lastEventMs = 0;
  lastPurchaseMs = 0;
  /** Value of the cart lines added after the last purchase: the open cart. */
  cartValueCents = 0;
  /** Cart lines added after the last purchase (event time, value), so a late purchase or a late cart
   *  line lands on the right side of the purchase that emptied the cart. */
  cartLines: { ts: number; cents: number }[] = [];
  purchases = 0;
  promoPurchases = 0;
  /** Space-saving top-K of categories viewed: parallel arrays. */
  cats: string[] = [];
  catCounts: number[] = [];
  /** Times of recent offers per channel (ascending), for frequency caps. */
  offers: Partial<Record<Channel, number[]>> = {};
  /** Visits so far (visit events, or new sessions). */
  visits = 0;
  /** The customer's most recent visits, the current one (the latest event's) last. */
  visitLog: VisitState[] = [];
  /** Closed decisions with no promotion (control, holdout) and how many converted; the same with one. */
  untreated = 0;
  untreatedConverted = 0;
  treated = 0;
  treatedConverted = 0;
}

export interface FeatureVector {
  /** The most viewed category, "" when none yet. */
  topCategory: string;
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
  /** Share of past purchases made with a promotion (0 with no purchases). */
  priceSensitivity: number;
  /** Categories viewed most, most viewed first (at most `features.topCategories`). */
  topCategories: string[];
  /** Share of the tracked category views that went to the top category (0 with no views). */
  topCategoryShare: number;
}

/**
 * Finds the visit the event belongs to, makes it the current one, and returns it. A visit is the
 * events of one session id; without one, the events until a gap of `gapMs`. A `visit` event, an
 * unknown session id, or (no session id) a gap starts a new visit. Call before `observe` (it reads
 * the last event time).
 */
export function beginVisit(c: CustomerState, e: { type: string; ts: number; sessionId?: string | undefined }, gapMs: number): VisitState {
  const log = c.visitLog;
  const key = e.sessionId ?? "";
  let i = -1;
  if (e.type !== "visit") {
    if (e.sessionId !== undefined) {
      for (let k = log.length - 1; k >= 0; k--)
        if (log[k]!.key === key) {
          i = k;
          break;
        }
    } else if (log.length > 0 && log[log.length - 1]!.key === "" && e.ts - c.lastEventMs <= gapMs) i = log.length - 1;
  }
  if (i < 0) {
    c.visits++;
    // The visit forgotten makes room for the new one: its object and arrays are reused, as a decoded
    // customer's are (codec.ts), so a new visit allocates nothing that outlives the event.
    const old = log.length >= MAX_OPEN_VISITS ? log.shift() : undefined;
    if (old) {
      old.key = key;
      if (old.products.length) old.products.length = old.views.length = 0;
      if (old.decided.length) old.decided.length = 0;
      log.push(old);
    } else log.push({ key, products: [], views: [], decided: [] });
  } else if (i !== log.length - 1) log.push(log.splice(i, 1)[0]!);
  return log[log.length - 1]!;
}

/** Counts a view of the product in the visit; returns its views there, this one included. */
export function noteProductView(v: VisitState, productId: string): number {
  let i = v.products.indexOf(productId);
  if (i < 0) {
    if (v.products.length >= MAX_VISIT_PRODUCTS) {
      v.products.shift();
      v.views.shift();
    }
    v.products.push(productId);
    v.views.push(0);
    i = v.products.length - 1;
  }
  return ++v.views[i]!;
}

/** Views of the product in the customer's current visit (the latest event's) since its last purchase. */
export function productViewsInVisit(c: CustomerState, productId: string): number {
  const v = c.visitLog[c.visitLog.length - 1];
  if (!v) return 0;
  const i = v.products.indexOf(productId);
  return i < 0 ? 0 : v.views[i]!;
}

/** A purchase in the visit: views count anew from here ("n views without a purchase"). */
export function clearVisitViews(v: VisitState): void {
  v.products.length = 0;
  v.views.length = 0;
}

/** A closed decision's outcome, for the customer's history (untreated: no promotion was offered). */
export function noteOutcome(c: CustomerState, treated: boolean, converted: boolean): void {
  if (treated) {
    c.treated++;
    if (converted) c.treatedConverted++;
  } else {
    c.untreated++;
    if (converted) c.untreatedConverted++;
  }
}

export interface ObservedEvent {
  type: CountedType | "visit" | "send";
  ts: number;
  category?: string | undefined;
  priceCents?: number | undefined;
  quantity?: number | undefined;
  promoted?: boolean;
  /** A cart event's action: "remove" takes a line out of the open cart (absent: an add). */
  action?: "add" | "remove" | undefined;
}

/** Folds one event into a customer's state. Events may come in any order (event time decides). */
export function observe(c: CustomerState, e: ObservedEvent, topK: number): void {
  if (c.firstSeenMs === 0 || e.ts < c.firstSeenMs) c.firstSeenMs = e.ts;
  if (e.ts > c.lastEventMs) c.lastEventMs = e.ts;
  if (e.type === "visit" || e.type === "send") return;
  if (e.type === "cart" && e.action === "remove") {
    // A removal is no cart add: the cart windows ("carts in the last hour") count adds only.
    removeCartLine(c, e.ts, (e.priceCents ?? 0) * (e.quantity ?? 1));
    return;
  }
  c.windows.add(e.type, e.ts);
  if (e.type === "view" && e.category) bumpCategory(c, e.category, topK);
  if (e.type === "cart") addCartLine(c, e.ts, (e.priceCents ?? 0) * (e.quantity ?? 1));
  if (e.type === "purchase") {
    c.purchases++;
    if (e.promoted) c.promoPurchases++;
    if (e.ts >= c.lastPurchaseMs) {
      c.lastPurchaseMs = e.ts;
      // The purchase empties the cart as it stood then; lines added after it stay open.
      c.cartLines = c.cartLines.filter((l) => l.ts > e.ts);
      c.cartValueCents = c.cartLines.reduce((s, l) => s + l.cents, 0);
    }
  }
}

function addCartLine(c: CustomerState, ts: number, cents: number): void {
  if (ts <= c.lastPurchaseMs) return; // already bought with the purchase that followed it
  const lines = c.cartLines;
  let i = lines.length;
  while (i > 0 && lines[i - 1]!.ts > ts) i--;
  lines.splice(i, 0, { ts, cents });
  c.cartValueCents += cents;
  if (lines.length > MAX_CART_LINES) {
    const [a, b] = lines.splice(0, 2) as [{ ts: number; cents: number }, { ts: number; cents: number }];
    lines.unshift({ ts: b.ts, cents: a.cents + b.cents });
  }
}

/**
 * Takes the newest open line of that value added at or before `ts` out of the cart, if there is one.
 * Lines carry no product, so the value (price × quantity) is what identifies the line; a removal
 * with no such line (its add not seen, bought already, merged past the bound, or arriving before its
 * add in event time) changes nothing rather than taking some other line out.
 */
function removeCartLine(c: CustomerState, ts: number, cents: number): void {
  const lines = c.cartLines;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.ts <= ts && l.cents === cents) {
      lines.splice(i, 1);
      c.cartValueCents -= cents;
      return;
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

/** What featuresOf reports for "never" (minutes): larger than any threshold a rule would use. */
export const NEVER_MINUTES = 1e9;

export function featuresOf(c: CustomerState, nowMs: number): FeatureVector {
  const w = c.windows;
  const n = (t: CountedType, win: WindowName) => w.count(t, win, nowMs);
  const order = c.cats.map((_, i) => i).sort((a, b) => c.catCounts[b]! - c.catCounts[a]!);
  let views = 0;
  for (const k of c.catCounts) views += k;
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
    minutesSinceLastEvent: c.lastEventMs ? Math.max(0, (nowMs - c.lastEventMs) / 60_000) : NEVER_MINUTES,
    minutesSinceLastPurchase: c.lastPurchaseMs ? Math.max(0, (nowMs - c.lastPurchaseMs) / 60_000) : NEVER_MINUTES,
    cartValueCents: c.cartValueCents,
    purchasesTotal: c.purchases,
    priceSensitivity: c.purchases > 0 ? c.promoPurchases / c.purchases : 0,
    topCategories: order.map((i) => c.cats[i]!),
    topCategory: order.length > 0 ? c.cats[order[0]!]! : "",
    topCategoryShare: views > 0 && order.length > 0 ? c.catCounts[order[0]!]! / views : 0,
  };
}

/**
 * The same features as featuresOf, computed on first read. The decision path only needs what the
 * segment rules test (two or three values), not twelve window counts and a sorted category list:
 * this halves the features' share of decide() (bench/decide.bench.ts). Not for JSON (getters).
 */
export function featureView(c: CustomerState, nowMs: number): FeatureVector {
  return new FeatureView(c, nowMs);
}

class FeatureView implements FeatureVector {
  private readonly levels: (Int32Array | undefined)[] = [undefined, undefined, undefined];
  private full: FeatureVector | undefined;
  constructor(
    private readonly c: CustomerState,
    private readonly nowMs: number,
  ) {}
  private n(window: WindowName, type: number): number {
    const i = window === "5m" ? 0 : window === "1h" ? 1 : 2;
    let l = this.levels[i];
    if (!l) this.levels[i] = l = this.c.windows.countAll(window, this.nowMs, new Int32Array(4));
    return l[type]!;
  }
  get views5m() { return this.n("5m", 0); }
  get views1h() { return this.n("1h", 0); }
  get views24h() { return this.n("24h", 0); }
  get clicks5m() { return this.n("5m", 1); }
  get clicks1h() { return this.n("1h", 1); }
  get clicks24h() { return this.n("24h", 1); }
  get carts5m() { return this.n("5m", 2); }
  get carts1h() { return this.n("1h", 2); }
  get carts24h() { return this.n("24h", 2); }
  get purchases5m() { return this.n("5m", 3); }
  get purchases1h() { return this.n("1h", 3); }
  get purchases24h() { return this.n("24h", 3); }
  get minutesSinceLastEvent() { return this.c.lastEventMs ? Math.max(0, (this.nowMs - this.c.lastEventMs) / 60_000) : NEVER_MINUTES; }
  get minutesSinceLastPurchase() { return this.c.lastPurchaseMs ? Math.max(0, (this.nowMs - this.c.lastPurchaseMs) / 60_000) : NEVER_MINUTES; }
  get cartValueCents() { return this.c.cartValueCents; }
  get purchasesTotal() { return this.c.purchases; }
  get priceSensitivity() { return this.c.purchases > 0 ? this.c.promoPurchases / this.c.purchases : 0; }
  get topCategories() { return (this.full ??= featuresOf(this.c, this.nowMs)).topCategories; }
  get topCategory() { return this.topCategories[0] ?? ""; }
  get topCategoryShare() { return (this.full ??= featuresOf(this.c, this.nowMs)).topCategoryShare; }
}

/** Offers to this customer on a channel within the window ending at nowMs. */
export function offersWithin(c: CustomerState, channel: Channel, windowMs: number, nowMs: number): number {
  const list = c.offers[channel];
  if (!list) return 0;
  let n = 0;
  for (const t of list) if (t > nowMs - windowMs && t <= nowMs) n++;
  return n;
}

/**
 * Whether one more offer at tsMs keeps every window of length windowMs at or under maxOffers.
 * Decisions can arrive out of order (within the allowed lateness), so an offer at ts also shares
 * windows with offers made after it: checking only (ts − W, ts] would let a late decision break the
 * cap. With the offers before ts (newest first) b₁ ≥ b₂ ≥ … and after it a₁ ≤ a₂ ≤ …, a window
 * holding ts, i of the before and j of the after exists iff a_j − b_i < W; the cap breaks iff that
 * happens with i + j = maxOffers.
 */
export function offerFits(c: CustomerState, channel: Channel, tsMs: number, maxOffers: number, windowMs: number): boolean {
  if (maxOffers <= 0) return false;
  const list = c.offers[channel];
  if (!list || list.length < maxOffers) return true;
  // Split point: list[p..] are after ts (strictly), list[..p) at or before it.
  let p = list.length;
  while (p > 0 && list[p - 1]! > tsMs) p--;
  for (let i = 0; i <= maxOffers; i++) {
    const j = maxOffers - i;
    if (i > p || j > list.length - p) continue;
    const first = i === 0 ? tsMs : list[p - i]!; // the i-th newest at or before ts
    const last = j === 0 ? tsMs : list[p + j - 1]!; // the j-th oldest after ts
    if (last - first < windowMs) return false;
  }
  return true;
}

/**
 * Records an offer at nowMs. Offers older than `keepAfterMs` are forgotten; pass the oldest time a
 * cap check can still reach (newest decision time − allowed lateness − longest cap window). Without
 * it, only the newest `keep` offers stay (the count-based trim this had before out-of-order checks).
 */
export function recordOffer(c: CustomerState, channel: Channel, nowMs: number, keep: number, keepAfterMs?: number): void {
  const list = (c.offers[channel] ??= []);
  let i = list.length;
  while (i > 0 && list[i - 1]! > nowMs) i--;
  list.splice(i, 0, nowMs);
  if (keepAfterMs !== undefined) {
    let drop = 0;
    while (drop < list.length && list[drop]! < keepAfterMs) drop++;
    if (drop) list.splice(0, drop);
  } else while (list.length > Math.max(1, keep)) list.shift();
}

/** The newest offer time across channels (0 with none). */
export function newestOfferMs(c: CustomerState): number {
  let t = 0;
  for (const list of Object.values(c.offers)) if (list && list.length) t = Math.max(t, list[list.length - 1]!);
  return t;
}

export interface CustomerJSON {
  /** The windows' cells, sparse (`WindowCounts.toSparse`). */
  ws?: number[];
  /** The windows' cells, dense: what checkpoints held before `ws`; still read. */
  w?: number[];
  f: number;
  e: number;
  p: number;
  cart: number;
  lines: { ts: number; cents: number }[];
  n: number;
  np: number;
  cats: string[];
  cc: number[];
  o: Partial<Record<Channel, number[]>>;
  /** Visits, and the recent visits' bookkeeping (absent in older checkpoints). */
  v?: number;
  vl?: VisitState[];
  /** Closed decisions: [untreated, converted, treated, converted]. */
  h?: [number, number, number, number];
}

/**
 * A detached copy of offer times per channel. Not `structuredClone`: that costs ~15 µs a call, and a
 * checkpoint copies the offers of every cached customer in the processor's loop.
 */
export function copyOffers(o: CustomerState["offers"]): CustomerState["offers"] {
  const out: CustomerState["offers"] = {};
  for (const k in o) {
    const list = o[k as Channel];
    if (list) out[k as Channel] = list.slice();
  }
  return out;
}

function copyVisit(v: VisitState): VisitState {
  return { key: v.key, products: v.products.slice(), views: v.views.slice(), decided: v.decided.slice() };
}

export function customerToJSON(c: CustomerState): CustomerJSON {
  return {
    ws: c.windows.toSparse(),
    f: c.firstSeenMs,
    e: c.lastEventMs,
    p: c.lastPurchaseMs,
    cart: c.cartValueCents,
    lines: c.cartLines.map((l) => ({ ...l })),
    n: c.purchases,
    np: c.promoPurchases,
    cats: [...c.cats],
    cc: [...c.catCounts],
    o: copyOffers(c.offers),
    v: c.visits,
    vl: c.visitLog.map(copyVisit),
    h: [c.untreated, c.untreatedConverted, c.treated, c.treatedConverted],
  };
}

export function customerFromJSON(j: CustomerJSON): CustomerState {
  const c = new CustomerState();
  c.windows = j.ws ? WindowCounts.fromSparse(j.ws) : j.w ? new WindowCounts(Int32Array.from(j.w)) : new WindowCounts();
  c.firstSeenMs = j.f;
  c.lastEventMs = j.e;
  c.lastPurchaseMs = j.p;
  c.cartValueCents = j.cart;
  c.cartLines = j.lines.map((l) => ({ ...l }));
  c.purchases = j.n;
  c.promoPurchases = j.np;
  c.cats = [...j.cats];
  c.catCounts = [...j.cc];
  c.offers = copyOffers(j.o);
  c.visits = j.v ?? 0;
  c.visitLog = (j.vl ?? []).map(copyVisit);
  if (j.h) [c.untreated, c.untreatedConverted, c.treated, c.treatedConverted] = j.h;
  return c;
}
