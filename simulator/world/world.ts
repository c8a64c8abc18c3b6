// The simulated shop as a pure model under a seeded generator and a virtual clock: the same seed,
// scenario and decisions give the same events. It never sees the engine; decisions reach it as data.
import { Heap } from "heap-js";
import type { Config, PromotionConfig } from "../../src/config/index.ts";
import { offerApplies, offerDiscountCents, offerQuantity, type Channel, type DecisionPoint as PointKind, type ShopEvent } from "../../src/events/index.ts";
import { rngFromSeed, sampleExponential, sampleNormal, type Rng } from "../../src/random/index.ts";
import { buildCatalog, type Product } from "./catalog.ts";
import { SHOPPER_TYPES, type PerType, type Scenario, type ScenarioChange, type ShopperType } from "./scenario.ts";

export const CONTROL = "control";

export interface WorldOptions {
  seed: number;
  startMs: number;
  shoppers: number;
  products: number;
  categories: readonly string[];
  visitsPerSec: number;
  promotions: readonly PromotionConfig[];
  scenario: Scenario;
  /** Prefix of every event id; distinct per run so a restarted simulator never reuses ids. */
  runId?: string;
  /**
   * Where the engine decides (config `decisionPoints`, the same rule as src/engine/points.ts): the world
   * publishes the truth of exactly those decision points. Default: the first product view of a visit.
   */
  decisionPoints?: { visit: boolean; productView: { enabled: boolean; minViews: number; maxPerVisit: number } };
}

/**
 * A world from the configuration's `simulator` section and promotions, in `scenario`; `over` replaces
 * any option (another seed, start, size or run id).
 */
export function worldFromConfig(cfg: Pick<Config, "simulator" | "promotions" | "decisionPoints">, scenario: Scenario, over: Partial<WorldOptions> = {}): World {
  const s = cfg.simulator;
  return new World({
    decisionPoints: { visit: cfg.decisionPoints.visit, productView: { ...cfg.decisionPoints.productView } },
    seed: s.seed,
    startMs: Date.parse(s.startTime),
    shoppers: s.shoppers,
    products: s.products,
    categories: s.categories,
    visitsPerSec: s.visitsPerSec,
    promotions: cfg.promotions,
    scenario,
    ...over,
  });
}

export interface Shopper {
  id: string;
  type: ShopperType;
  /** Per category, summing to 1. */
  tastes: number[];
  priceSensitivity: number;
  responsiveness: Record<Exclude<Channel, "web">, number>;
  frequency: number;
  lastVisitMs: number;
}

/** Ground truth for one decision point: what each arm is worth for this shopper, incrementally. */
export interface Truth {
  eventId: string;
  customerId: string;
  ts: number;
  channel: Channel;
  /** The kind of decision point (as the engine would name it). */
  point: PointKind;
  shopperType: ShopperType;
  /** The product the shopper has in mind (what a purchase would be). */
  productId: string;
  /** Expected margin (cents) of the arm minus that of no promotion. control is 0. */
  arms: Record<string, number>;
  /** Purchase probability under each arm. */
  conversion: Record<string, number>;
  /** Expected margin (cents) with no promotion: an arm's total expected margin is this plus its `arms` entry (issue 23's shares of the shop's rule). */
  baseMargin: number;
  best: string;
}

export type WorldOutput =
  | { kind: "event"; event: ShopEvent }
  | { kind: "truth"; truth: Truth }
  | { kind: "promotion"; promotion: PromotionConfig }
  | { kind: "note"; text: string };

/** What a decision tells the shop (a subset of the decision contract). */
export interface OfferSeen {
  id: string;
  eventId: string;
  promotionId: string;
  offer?: { maxDiscountCents: number } | undefined;
}

interface DecisionPoint {
  shopper: Shopper;
  channel: Channel;
  product: Product;
  uBuy: number;
  /** The offer the shopper acts on: the latest decision that reached them (the page they are on). */
  decision?: OfferSeen;
  resolved: boolean;
  /** The events that open it (a visit and its product views share one purchase moment). */
  eventIds: string[];
  /** Product views of the visit so far, and the products decided at (the engine's product-view trigger). */
  views?: Map<string, number>;
  decided?: Set<string>;
}

interface Scheduled {
  at: number;
  seq: number;
  run: () => void;
}

export interface WorldCounts {
  events: number;
  visits: number;
  sends: number;
  purchases: number;
  promoPurchases: number;
  decisionsSeen: number;
  decisionsLate: number;
  truths: number;
  stockOuts: number;
  restocks: number;
  marginCents: number;
  discountCents: number;
}

const HOUR = 3_600_000;
const MIN = 60_000;
/** A shopper counts as lapsed when away for this many of their own usual gaps between visits. */
const LAPSED_GAPS = 4;
/** A lapsed shopper is messaged at most once per this long. */
const LAPSED_COOLDOWN_MS = 24 * HOUR;
/** Lapsed shoppers are looked for on this cadence: the scheduled sends go out in batches. */
const LAPSED_SWEEP_MS = 30 * MIN;

/** A catalog product in the contract's terms (src/events/offer.ts). */
function termsOf(p: Product): { productId: string; category: string; priceCents: number; costCents: number } {
  return { productId: p.id, category: p.category, priceCents: p.priceCents, costCents: p.costCents };
}

export class World {
  nowMs: number;
  readonly products: Product[];
  readonly shoppers: Shopper[];
  readonly promotions = new Map<string, PromotionConfig>();
  readonly counts: WorldCounts = { events: 0, visits: 0, sends: 0, purchases: 0, promoPurchases: 0, decisionsSeen: 0, decisionsLate: 0, truths: 0, stockOuts: 0, restocks: 0, marginCents: 0, discountCents: 0 };
  scenario!: Scenario;
  private scenarioStartMs = 0;
  private effects: Record<string, PerType> = {};
  private traffic = 1;
  private flashSale: { productId: string; share: number } | undefined;
  private restockPaused = false;
  private readonly rng: Rng;
  private readonly queue = new Heap<Scheduled>((a, b) => a.at - b.at || a.seq - b.seq);
  private seq = 0;
  private idSeq = 0;
  private sessionSeq = 0;
  private out: WorldOutput[] = [];
  private readonly open = new Map<string, DecisionPoint>();
  private readonly runId: string;
  private maxFrequency = 0;
  private frequencySum = 0;
  private scenarioEpoch = 0;
  /** Discount granted so far per promotion (cents): a promotion whose budget is gone is not offered. */
  private readonly spentCents = new Map<string, number>();
  /** When each lapsed shopper was last messaged. */
  private readonly lastMessagedMs = new Map<string, number>();
  /** The promotions the run started with: a scenario switch restores them (see setScenario). */
  private readonly basePromotions: ReadonlyMap<string, PromotionConfig>;

  constructor(readonly opts: WorldOptions) {
    this.rng = rngFromSeed(opts.seed);
    this.nowMs = opts.startMs;
    this.runId = opts.runId ?? `s${opts.seed}t${Math.floor(opts.startMs / 1000).toString(36)}`;
    this.products = buildCatalog(opts.seed, opts.products, opts.categories, opts.scenario.initialStock);
    for (const p of opts.promotions) this.promotions.set(p.id, p);
    this.basePromotions = new Map(this.promotions);
    this.shoppers = [];
    for (let i = 0; i < opts.shoppers; i++) this.shoppers.push(this.makeShopper(i));
    // Each shopper's last visit before the run, one of their own gaps ago, so "away for a while"
    // (lapsed sends) means the same from the first hour on instead of "everyone, at the start".
    for (const s of this.shoppers) s.lastVisitMs = this.nowMs - sampleExponential(1 / this.usualGapMs(s, 1), this.rng);
    for (const p of this.products) this.emitInventory(p);
    this.setScenario(opts.scenario);
    this.scheduleVisit();
    this.schedule(this.nowMs + LAPSED_SWEEP_MS, () => this.lapsedSweep());
  }

  /** The mean time between two visits of this shopper at a traffic multiplier (visits pick shoppers by frequency). */
  usualGapMs(s: Shopper, traffic = this.traffic): number {
    return (1000 * this.frequencySum) / (this.opts.visitsPerSec * traffic * s.frequency);
  }

  private makeShopper(i: number): Shopper {
    const r = this.rng;
    const mix = this.opts.scenario.shopperMix;
    const total = SHOPPER_TYPES.reduce((s, t) => s + mix[t], 0);
    let u = r.next() * total;
    let type: ShopperType = "lost-cause";
    for (const t of SHOPPER_TYPES) {
      if (u < mix[t]) {
        type = t;
        break;
      }
      u -= mix[t];
    }
    const raw = this.opts.categories.map(() => Math.pow(r.next(), 3));
    const sum = raw.reduce((a, b) => a + b, 0) || 1;
    const frequency = Math.exp(0.8 * sampleNormal(r));
    this.maxFrequency = Math.max(this.maxFrequency, frequency);
    this.frequencySum += frequency;
    return {
      id: `c${String(i + 1).padStart(5, "0")}`,
      type,
      tastes: raw.map((x) => x / sum),
      priceSensitivity: r.next(),
      responsiveness: { email: 0.3 + 0.7 * r.next(), sms: 0.2 + 0.8 * r.next(), push: 0.2 + 0.8 * r.next() },
      frequency,
      lastVisitMs: 0,
    };
  }

  /**
   * Switches scenario now: its timeline counts from this moment. Each scenario describes the shop
   * from its own start, so promotions a previous scenario changed (budget-crunch's budgets) are
   * restored to the run's promotions and ones it launched (new-promotion's) are retired by an end
   * time of now; both are output as `promotion` so the processor hears of them too.
   */
  setScenario(s: Scenario): void {
    const nowIso = new Date(this.nowMs).toISOString();
    for (const [id, cur] of this.promotions) {
      const base = this.basePromotions.get(id);
      let next: PromotionConfig | undefined;
      if (base) next = JSON.stringify(base) === JSON.stringify(cur) ? undefined : base;
      else if (!cur.endsAt || Date.parse(cur.endsAt) > this.nowMs) next = { ...cur, endsAt: nowIso };
      if (!next) continue;
      this.promotions.set(id, next);
      this.out.push({ kind: "promotion", promotion: next });
    }
    this.scenario = s;
    // Stock starts the scenario at its level at least (holiday stocks ten times as much).
    for (const p of this.products)
      if (p.stock < s.initialStock) {
        p.stock = s.initialStock;
        this.counts.restocks++;
        this.emitInventory(p);
      }
    this.scenarioStartMs = this.nowMs;
    this.effects = { ...s.effects };
    this.traffic = s.trafficMultiplier;
    this.flashSale = undefined;
    this.restockPaused = false;
    const epoch = ++this.scenarioEpoch;
    for (const c of s.timeline) this.schedule(this.nowMs + c.atSec * 1000, () => epoch === this.scenarioEpoch && this.applyChange(c));
    this.scheduleRestock(epoch);
    this.out.push({ kind: "note", text: `scenario ${s.name}` });
  }

  private applyChange(c: ScenarioChange): void {
    if (c.effects) Object.assign(this.effects, c.effects);
    if (c.trafficMultiplier !== undefined) this.traffic = c.trafficMultiplier;
    if (c.flashSale) this.flashSale = c.flashSale.share > 0 ? c.flashSale : undefined;
    if (c.restockPaused !== undefined) this.restockPaused = c.restockPaused;
    if (c.restockNow) this.restock();
    for (const p of c.promotions ?? []) {
      this.promotions.set(p.id, p);
      this.out.push({ kind: "promotion", promotion: p });
    }
    this.out.push({ kind: "note", text: c.note ?? `scenario change at +${c.atSec}s` });
  }

  /** Sim-time ms since the current scenario started. */
  get scenarioElapsedMs(): number {
    return this.nowMs - this.scenarioStartMs;
  }

  effectOf(promotionId: string, type: ShopperType): number {
    return (this.effects[promotionId] ?? this.scenario.defaultEffect)[type];
  }

  private schedule(at: number, run: () => void): void {
    this.queue.push({ at: Math.round(at), seq: this.seq++, run });
  }

  /** Runs the world up to `untilMs` (sim time); returns what happened, in time order. */
  advance(untilMs: number): WorldOutput[] {
    for (let next = this.queue.peek(); next && next.at <= untilMs; next = this.queue.peek()) {
      this.queue.pop();
      if (next.at > this.nowMs) this.nowMs = next.at;
      next.run();
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Sim time of the next scheduled happening. */
  nextAt(): number {
    return this.queue.peek()?.at ?? Infinity;
  }

  /**
   * A decision from the engine reaches the shopper (if the decision point is still open). A visit can
   * get several (a banner, then offers on the products viewed): the shopper acts on the latest.
   */
  onDecision(d: OfferSeen): boolean {
    const dp = this.open.get(d.eventId);
    if (!dp || dp.resolved) {
      this.counts.decisionsLate++;
      return false;
    }
    // Only what the shopper acts on: the caller's object is a whole decision (its explanation ~1 KB),
    // held here for the decision point's life (up to a day of shop time: ~100 MB at max speed).
    dp.decision = { id: d.id, eventId: d.eventId, promotionId: d.promotionId, ...(d.offer ? { offer: { maxDiscountCents: d.offer.maxDiscountCents } } : {}) };
    this.counts.decisionsSeen++;
    return true;
  }

  private id(): string {
    return `${this.runId}-${++this.idSeq}`;
  }

  private emit(e: ShopEvent): void {
    this.counts.events++;
    this.out.push({ kind: "event", event: e });
  }

  private emitInventory(p: Product): void {
    // Whole milliseconds: stock is also emitted between two happenings (a restock at a scenario switch,
    // a new seed's world), where the clock is the runner's (real time × speed, with fractions), and the
    // contract's ts is an integer (a fractional one is dead-lettered and the processor keeps the old stock).
    this.emit({ type: "inventory", id: this.id(), ts: Math.floor(this.nowMs), productId: p.id, category: p.category, stock: p.stock, priceCents: p.priceCents, costCents: p.costCents });
  }

  private scheduleVisit(): void {
    const ratePerMs = (this.opts.visitsPerSec * this.traffic) / 1000;
    this.schedule(this.nowMs + sampleExponential(ratePerMs, this.rng), () => {
      this.visit();
      this.scheduleVisit();
    });
  }

  private scheduleRestock(epoch: number): void {
    this.schedule(this.nowMs + this.scenario.restockEverySec * 1000, () => {
      if (epoch !== this.scenarioEpoch) return;
      if (!this.restockPaused) this.restock();
      this.scheduleRestock(epoch);
    });
  }

  private restock(): void {
    for (const p of this.products)
      if (p.stock < this.scenario.restockTo) {
        p.stock = this.scenario.restockTo;
        this.counts.restocks++;
        this.emitInventory(p);
      }
  }

  /** Budget (cents) a promotion has left in the shop's books. */
  budgetLeftCents(promotionId: string): number {
    const p = this.promotions.get(promotionId);
    return p ? p.budgetCents - (this.spentCents.get(promotionId) ?? 0) : 0;
  }

  /**
   * The most one offer of the promotion can cost on this product, by the contract's discount rule
   * (src/events/offer.ts, which the engine's budget guard uses too): an offer is made only while the
   * budget covers it.
   */
  private reservationCents(p: PromotionConfig, product: Product): number {
    const t = termsOf(product);
    return offerDiscountCents(p, t, offerQuantity(p, t));
  }

  private pickShopper(): Shopper {
    for (;;) {
      const s = this.shoppers[Math.floor(this.rng.next() * this.shoppers.length)]!;
      if (this.rng.next() * this.maxFrequency <= s.frequency) return s;
    }
  }

  private pickProduct(s: Shopper): Product {
    if (this.flashSale && this.rng.next() < this.flashSale.share) {
      const p = this.products.find((x) => x.id === this.flashSale!.productId);
      if (p) return p;
    }
    let u = this.rng.next();
    let cat = 0;
    for (; cat < s.tastes.length - 1; cat++) {
      if (u < s.tastes[cat]!) break;
      u -= s.tastes[cat]!;
    }
    const name = this.opts.categories[cat]!;
    const inCat = this.products.filter((p) => p.category === name);
    const pool = inCat.length ? inCat : this.products;
    return pool[Math.floor(this.rng.next() * pool.length)]!;
  }


  private live(p: PromotionConfig, channel: Channel, product: Product): boolean {
    if (!p.channels.includes(channel)) return false;
    if (p.startsAt && this.nowMs < Date.parse(p.startsAt)) return false;
    if (p.endsAt && this.nowMs >= Date.parse(p.endsAt)) return false;
    if (p.productId !== undefined) {
      const prod = this.products.find((x) => x.id === p.productId);
      if (!prod || prod.stock <= 0) return false;
    }
    if (this.budgetLeftCents(p.id) < this.reservationCents(p, product)) return false;
    return true;
  }

  private quantityFor(p: PromotionConfig | undefined, product: Product): number {
    return offerQuantity(p, termsOf(product));
  }

  /** The discount a promotion gives on this purchase (0 when it does not apply), capped by the offer (the contract's rule). */
  discountCents(p: PromotionConfig, product: Product, qty: number, capCents?: number): number {
    return offerDiscountCents(p, termsOf(product), qty, capCents);
  }

  /**
   * P(buy) of a shopper for a product under an arm (intent: stock is not looked at here); for
   * email/sms/push decision points the message's reach (responsiveness) scales base and effect.
   * A promotion persuades only when it applies to the product the shopper has in mind: an offer on
   * something else sells nothing here (it used to lift sales at no discount, which made offers that
   * never apply look like free money in the truth). Being put off (a negative effect) needs no match.
   */
  buyProbability(s: Shopper, channel: Channel, armId: string, product: Product): number {
    const sc = this.scenario;
    const resp = channel === "web" ? 1 : s.responsiveness[channel];
    const base = channel === "web" ? sc.basePurchase[s.type] : sc.baseReturn[s.type] * resp;
    if (armId === CONTROL) return base;
    const p = this.promotions.get(armId);
    if (!p) return base;
    let eff = this.effectOf(p.id, s.type) * resp;
    if (eff > 0) {
      if (!offerApplies(p, termsOf(product))) return base;
      const ci = p.category ? this.opts.categories.indexOf(p.category) : -1;
      const taste = ci >= 0 ? Math.min(2, 0.5 + 4 * (s.tastes[ci] ?? 0)) : 1;
      eff *= taste * (0.5 + s.priceSensitivity);
    }
    return Math.min(0.95, Math.max(0, base + eff));
  }

  private marginOf(armId: string, product: Product, capCents?: number): number {
    const p = armId === CONTROL ? undefined : this.promotions.get(armId);
    const qty = this.quantityFor(p, product);
    const disc = p ? this.discountCents(p, product, qty, capCents) : 0;
    return (product.priceCents - product.costCents) * qty - disc;
  }

  private truthFor(eventId: string, point: PointKind, s: Shopper, channel: Channel, product: Product): Truth {
    const arms: Record<string, number> = {};
    const conversion: Record<string, number> = {};
    // A purchase needs the units in stock (two for a bundle); what cannot be sold converts nobody.
    const p0 = product.stock >= 1 ? this.buyProbability(s, channel, CONTROL, product) : 0;
    const m0 = this.marginOf(CONTROL, product);
    conversion[CONTROL] = p0;
    arms[CONTROL] = 0;
    let best = CONTROL;
    for (const p of this.promotions.values()) {
      if (!this.live(p, channel, product)) continue;
      const pb = product.stock >= this.quantityFor(p, product) ? this.buyProbability(s, channel, p.id, product) : 0;
      conversion[p.id] = pb;
      arms[p.id] = pb * this.marginOf(p.id, product) - p0 * m0;
      if (arms[p.id]! > arms[best]!) best = p.id;
    }
    this.counts.truths++;
    return { eventId, customerId: s.id, ts: this.nowMs, channel, point, shopperType: s.type, productId: product.id, arms, conversion, baseMargin: p0 * m0, best };
  }

  /**
   * Opens a decision point: a visit (a web page view of the shop, the product in mind not shown yet) or
   * a send (email/sms/push). A send for a cart left behind carries the cart. The truth is published for
   * the visit only when the engine decides at visits (`decisionPoints.visit`).
   */
  private decisionPoint(type: "visit" | "send", s: Shopper, channel: Channel, product: Product, reason?: string, sessionId?: string): { id: string; dp: DecisionPoint } {
    const id = this.id();
    const cart = reason === "cart-abandoned" ? [{ productId: product.id, category: product.category, quantity: 1, priceCents: product.priceCents }] : undefined;
    const ev: ShopEvent =
      type === "visit"
        ? { type: "visit", id, ts: this.nowMs, customerId: s.id, channel: "web", sessionId: sessionId! }
        : { type: "send", id, ts: this.nowMs, customerId: s.id, channel: channel as "email" | "sms" | "push", ...(reason ? { reason } : {}), ...(cart ? { items: cart } : {}) };
    this.emit(ev);
    if (type === "send") this.out.push({ kind: "truth", truth: this.truthFor(id, cart ? "cart" : "send", s, channel, product) });
    else if (this.opts.decisionPoints?.visit) this.out.push({ kind: "truth", truth: this.truthFor(id, "visit", s, channel, product) });
    const dp: DecisionPoint = { shopper: s, channel, product, uBuy: this.rng.next(), resolved: false, eventIds: [id] };
    this.open.set(id, dp);
    return { id, dp };
  }

  /**
   * A product view during an open visit: a decision point of its own for the engine (the same
   * purchase moment as the visit's; its truth is the product the shopper has in mind, which is what a
   * purchase would be).
   */
  private productView(dp: DecisionPoint, prod: Product, sessionId: string): void {
    const s = dp.shopper;
    const id = this.id();
    this.emit({ type: "view", id, ts: this.nowMs, customerId: s.id, sessionId, productId: prod.id, category: prod.category, priceCents: prod.priceCents });
    // The engine's trigger: the minViews-th view of a product in the visit, once per product, at most
    // maxPerVisit per visit (src/engine/points.ts; no purchase can come between, it settles the visit).
    const pv = this.opts.decisionPoints?.productView ?? { enabled: true, minViews: 1, maxPerVisit: 1 };
    if (dp.resolved || !pv.enabled) return;
    const views = (dp.views ??= new Map()).set(prod.id, (dp.views.get(prod.id) ?? 0) + 1).get(prod.id)!;
    const decided = (dp.decided ??= new Set());
    if (views < pv.minViews || decided.has(prod.id) || decided.size >= pv.maxPerVisit) return;
    decided.add(prod.id);
    this.out.push({ kind: "truth", truth: this.truthFor(id, "product-view", s, "web", dp.product) });
    dp.eventIds.push(id);
    this.open.set(id, dp);
  }

  private visit(): void {
    const s = this.pickShopper();
    this.counts.visits++;
    s.lastVisitMs = this.nowMs;
    const product = this.pickProduct(s);
    const sessionId = `${s.id}-${++this.sessionSeq}`;
    const { id: dpId, dp } = this.decisionPoint("visit", s, "web", product, undefined, sessionId);
    const t0 = this.nowMs;
    const r = this.rng;
    const views = 1 + Math.floor(r.next() * 4);
    let t = t0 + 5_000;
    for (let i = 0; i < views; i++) {
      const prod = i === 0 ? product : this.pickProduct(s);
      const at = t;
      this.schedule(at, () => this.productView(dp, prod, sessionId));
      t += 10_000 + r.next() * 30_000;
    }
    if (r.next() < 0.6) this.schedule(t0 + 30_000 + r.next() * 60_000, () => this.emit({ type: "click", id: this.id(), ts: this.nowMs, customerId: s.id, productId: product.id, category: product.category }));
    const carted = r.next() < 0.35;
    if (carted)
      this.schedule(t0 + 90_000 + r.next() * 60_000, () =>
        this.emit({ type: "cart", id: this.id(), ts: this.nowMs, customerId: s.id, productId: product.id, category: product.category, quantity: 1, priceCents: product.priceCents }),
      );
    const end = t0 + 180_000 + r.next() * 420_000;
    this.schedule(end, () => {
      const bought = this.resolve(dpId, dp, carted);
      if (!bought && carted) this.cartAbandoned(s, product);
    });
  }

  /**
   * A cart left behind: an email decision point one to four hours later. (Its own method: a closure
   * made inside visit() would keep visit()'s whole scope, the resolved decision point with it, for the
   * hours it waits: ~40 MB at max speed.)
   */
  private cartAbandoned(s: Shopper, product: Product): void {
    this.schedule(this.nowMs + HOUR + this.rng.next() * 3 * HOUR, () => {
      this.counts.sends++;
      const { id: sid, dp: sdp } = this.decisionPoint("send", s, "email", product, "cart-abandoned");
      this.schedule(this.nowMs + 30 * MIN + this.rng.next() * 20 * HOUR, () => this.resolve(sid, sdp, true));
    });
  }

  /**
   * The scheduled send: every half hour, shoppers away for LAPSED_GAPS of their own usual gaps (and
   * not messaged in the last day) get a message on the channel they answer best: a decision point
   * off-site. "Away" is relative to the shopper's own rhythm, so it means the same at any traffic.
   */
  private lapsedSweep(): void {
    for (const s of this.shoppers) {
      if (this.nowMs - s.lastVisitMs < LAPSED_GAPS * this.usualGapMs(s)) continue;
      const messaged = this.lastMessagedMs.get(s.id);
      if (messaged !== undefined && this.nowMs - messaged < LAPSED_COOLDOWN_MS) continue;
      this.lastMessagedMs.set(s.id, this.nowMs);
      const r = s.responsiveness;
      const channel: Channel = r.email >= r.sms && r.email >= r.push ? "email" : r.push >= r.sms ? "push" : "sms";
      this.counts.sends++;
      const product = this.pickProduct(s);
      const { id: sid, dp: sdp } = this.decisionPoint("send", s, channel, product, "lapsed");
      this.schedule(this.nowMs + 20 * MIN + this.rng.next() * 10 * HOUR, () => this.resolve(sid, sdp, false));
    }
    this.schedule(this.nowMs + LAPSED_SWEEP_MS, () => this.lapsedSweep());
  }

  /** The moment of truth for a decision point: buy or not, under the offer it received (if any). */
  private resolve(_id: string, dp: DecisionPoint, carted: boolean): boolean {
    dp.resolved = true;
    for (const e of dp.eventIds) this.open.delete(e);
    const s = dp.shopper;
    const armId = dp.decision?.promotionId ?? CONTROL;
    const product = dp.product;
    const p = armId === CONTROL ? undefined : this.promotions.get(armId);
    // uBuy was drawn when the decision point opened, so whether or when a decision arrives does not
    // shift the main stream: the rest of the run stays the same (common random numbers across arms).
    const prob = this.buyProbability(s, dp.channel, armId, product);
    if (dp.uBuy >= prob) return false;
    const qty = this.quantityFor(p, product);
    if (product.stock < qty) {
      this.counts.stockOuts++;
      return false;
    }
    if (!carted && dp.channel === "web")
      this.emit({ type: "cart", id: this.id(), ts: this.nowMs, customerId: s.id, productId: product.id, category: product.category, quantity: qty, priceCents: product.priceCents });
    const discount = p ? this.discountCents(p, product, qty, dp.decision?.offer?.maxDiscountCents) : 0;
    const total = product.priceCents * qty - discount;
    this.counts.purchases++;
    s.lastVisitMs = Math.max(s.lastVisitMs, this.nowMs);
    if (discount > 0 && p) {
      this.counts.promoPurchases++;
      this.spentCents.set(p.id, (this.spentCents.get(p.id) ?? 0) + discount);
    }
    this.counts.discountCents += discount;
    this.counts.marginCents += (product.priceCents - product.costCents) * qty - discount;
    this.emit({
      type: "purchase",
      id: this.id(),
      ts: this.nowMs + 1,
      customerId: s.id,
      totalCents: total,
      items: [{ productId: product.id, category: product.category, quantity: qty, priceCents: product.priceCents }],
      ...(discount > 0 && p ? { discountCents: discount, promotionId: p.id, ...(dp.decision ? { decisionId: dp.decision.id } : {}) } : {}),
    });
    product.stock -= qty;
    if (product.stock === 0) this.counts.stockOuts++;
    this.emitInventory(product);
    return true;
  }
}
