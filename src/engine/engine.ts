// The decision pipeline as a pure function of (state, event, rng): no clock, no I/O. The processor,
// the evaluation harness and the benchmarks all drive this same code.
import { ArmTable } from "../bandit/index.ts";
import type { Rng } from "../random/index.ts";
import type { Channel, CustomerEvent, Decision, DecisionPointEvent, ShopEvent } from "../events/index.ts";
import { PS_ERR_EVENT } from "../events/index.ts";
import { FeatureStore, featureView, featuresOf, observe, recordOffer, type CustomerState, type FeatureVector } from "../features/index.ts";
import { RecentIds } from "./recent.ts";
import { PendingTable } from "./attribution.ts";
import { capAllows, exclusionOf, reservationCents } from "./guards.ts";
import { Ledger } from "./ledger.ts";
import { choose } from "./policy.ts";
import { segmentOf } from "./segments.ts";
import { CONTROL, promotionFrom, type Effect, type EngineConfig, type Outcome, type Pending, type Promotion } from "./types.ts";

export interface EngineCounters {
  events: number;
  decisions: number;
  late: number;
  /** Events dead-lettered as too far ahead of the newest event time. */
  farFuture: number;
  duplicates: number;
  outcomes: number;
  overflowed: number;
  /** Inventory events older than the stock figure already applied (ignored, not dead-lettered). */
  staleInventory: number;
}

/**
 * Far-future events in a row, agreeing on the time, after which the watermark jumps to them. One event stamped far ahead
 * is a bad clock and is dead-lettered; but if every event is that far ahead, the stream has moved on
 * (a quiet night, a replay with a gap) and refusing them all would stop the engine for good.
 */
export const FAR_FUTURE_RUN_TO_JUMP = 3;

export interface Engine {
  cfg: EngineConfig;
  promotions: Map<string, Promotion>;
  arms: ArmTable;
  features: FeatureStore;
  ledger: Ledger;
  pending: PendingTable;
  recentIds: RecentIds;
  /** The newest event time seen. */
  watermarkMs: number;
  /** Far-future events dead-lettered in a row (see FAR_FUTURE_RUN_TO_JUMP). */
  farFutureRun: number;
  /** Event time of the first event of that run. */
  farFutureAnchorMs: number;
  /** Event time of the last sweep of idle customers. */
  lastPurgeMs: number;
  /** Partitioned mode: the latest counts each other partition shared (by partition number). */
  remoteArms: Record<string, SyncArms>;
  counters: EngineCounters;
}

export function createEngine(cfg: EngineConfig): Engine {
  const arms = new ArmTable({
    priorAlpha: cfg.bandit.priorAlpha,
    priorBeta: cfg.bandit.priorBeta,
    hierarchyStrength: cfg.bandit.hierarchyStrength,
    halfLifeMs: cfg.bandit.halfLifeMs,
  });
  const e: Engine = {
    cfg,
    promotions: new Map(),
    arms,
    features: new FeatureStore({
      maxCustomers: cfg.features.maxCustomers,
      idleTtlMs: cfg.features.idleTtlMs,
      offerMemoryMs: longestCapWindowMs(cfg) + cfg.features.allowedLatenessMs,
    }),
    ledger: new Ledger(),
    pending: new PendingTable(),
    recentIds: new RecentIds(cfg.features.recentEventIds),
    watermarkMs: 0,
    farFutureRun: 0,
    farFutureAnchorMs: 0,
    lastPurgeMs: 0,
    remoteArms: {},
    counters: { events: 0, decisions: 0, late: 0, farFuture: 0, duplicates: 0, outcomes: 0, overflowed: 0, staleInventory: 0 },
  };
  arms.add(CONTROL);
  for (const p of cfg.promotions) addPromotion(e, p);
  return e;
}

function longestCapWindowMs(cfg: EngineConfig): number {
  let w = 0;
  for (const c of Object.values(cfg.frequencyCaps)) w = Math.max(w, c.windowMs);
  return w;
}

/**
 * Adds (or updates) a promotion at runtime. A new one starts from the prior in every segment (its
 * arm-wide posterior is the prior, and a segment borrows at most that much strength) and is explored:
 * a Beta(1, 1) draw beats a learned 5% arm about 95% of the time until its own failures come in.
 * Updating an existing one keeps what it learned and its spend; a new budget applies from now.
 */
export function addPromotion(e: Engine, p: Promotion): void {
  e.promotions.set(p.id, p);
  e.arms.add(p.id);
  // Partitioned, a promotion's budget here is what the global ledger granted this partition.
  if (!e.cfg.partitioned) e.ledger.ensureBudget(p.id, p.budgetCents);
  else if (!e.ledger.budgets.has(p.id)) e.ledger.ensureBudget(p.id, 0);
}

/** Wire form of a table's counts: arm → segment ("" for arm-wide) → [successes, failures, time]. */
export type SyncArms = Record<string, Record<string, [number, number, number]>>;

/** This engine's own counts in sync form (what a partition shares with the others). */
export function ownArms(e: Engine): SyncArms {
  const out: SyncArms = {};
  for (const [id, a] of Object.entries(e.arms.toJSON().arms)) {
    const segs: Record<string, [number, number, number]> = { "": [a.global.s, a.global.f, a.global.t] };
    for (const [k, c] of Object.entries(a.segments)) segs[k] = [c.s, c.f, c.t];
    out[id] = segs;
  }
  return out;
}

/** Another partition's counts arrive: posteriors become own + the sum of the others' latest. */
function applySync(e: Engine, from: number, arms: SyncArms): void {
  e.remoteArms[String(from)] = arms;
  rebuildExternal(e);
}

export function rebuildExternal(e: Engine): void {
  const states = Object.values(e.remoteArms).map((arms) => ({
    arms: Object.fromEntries(
      Object.entries(arms).map(([id, segs]) => {
        const g = segs[""] ?? [0, 0, 0];
        const segments = Object.fromEntries(Object.entries(segs).filter(([k]) => k !== "").map(([k, c]) => [k, { s: c[0], f: c[1], t: c[2] }]));
        return [id, { global: { s: g[0], f: g[1], t: g[2] }, segments }];
      }),
    ),
  }));
  e.arms.external = states.length ? ArmTable.sum(e.arms.opts, states) : undefined;
}

export function removePromotion(e: Engine, id: string): void {
  e.promotions.delete(id);
}

/**
 * Processes one event; returns what the shell must do (publish decisions, dead letters) and outcomes.
 * Pure: everything it needs is in the engine, the event and the rng (seed it from the event id, as
 * the processor does with rngFromKey, and a replay makes the same decisions).
 */
export function step(e: Engine, ev: ShopEvent, rng: Rng): Effect[] {
  const out: Effect[] = [];
  // Internal events of partitioned processors carry no shopper's time: they neither move the
  // watermark nor go through the lateness checks.
  if (ev.type === "allowance") {
    e.ledger.grant(ev.resource, ev.key, ev.total);
    return out;
  }
  if (ev.type === "sync") {
    applySync(e, ev.from, ev.arms);
    return out;
  }
  // A promotion change (issue 15) is applied where it stands in the log; its time is when it was asked
  // for, not a shopper's, so it neither moves the watermark nor can be late.
  if (ev.type === "promotion") {
    addPromotion(e, promotionFrom(ev.promotion));
    return out;
  }
  const f = e.cfg.features;
  if (e.watermarkMs > 0 && ev.ts < e.watermarkMs - f.allowedLatenessMs) {
    e.counters.late++;
    out.push({ kind: "deadletter", reason: PS_ERR_EVENT.Late, detail: `ts ${ev.ts} is ${e.watermarkMs - ev.ts} ms behind the newest event (allowed ${f.allowedLatenessMs})` });
    return out;
  }
  if (e.watermarkMs > 0 && ev.ts > e.watermarkMs + f.maxFutureSkewMs) {
    // A run counts only events that agree with each other (within the allowed lateness of the run's
    // first): a stream that moved on does; scattered bad clocks (fuzzed input) do not.
    if (e.farFutureRun > 0 && Math.abs(ev.ts - e.farFutureAnchorMs) > f.allowedLatenessMs) e.farFutureRun = 0;
    if (e.farFutureRun === 0) e.farFutureAnchorMs = ev.ts;
    if (++e.farFutureRun < FAR_FUTURE_RUN_TO_JUMP) {
      e.counters.farFuture++;
      out.push({ kind: "deadletter", reason: PS_ERR_EVENT.FarFuture, detail: `ts ${ev.ts} is ${ev.ts - e.watermarkMs} ms ahead of the newest event (allowed ${f.maxFutureSkewMs})` });
      return out;
    }
  }
  e.farFutureRun = 0;
  if (e.recentIds.has(ev.id)) {
    e.counters.duplicates++;
    out.push({ kind: "deadletter", reason: PS_ERR_EVENT.Duplicate, detail: `event id ${ev.id} was already processed` });
    return out;
  }
  e.recentIds.add(ev.id);
  e.counters.events++;
  if (ev.ts > e.watermarkMs) {
    e.watermarkMs = ev.ts;
    e.features.setNow(ev.ts);
    // Idle customers are dropped when touched or evicted; a sweep every eighth of the TTL (event
    // time) also drops those never seen again, so memory and the expiration count follow the TTL.
    if (ev.ts - e.lastPurgeMs >= e.cfg.features.idleTtlMs / 8) {
      e.lastPurgeMs = ev.ts;
      e.features.purgeStale();
    }
    expire(e, rng, out);
  }
  switch (ev.type) {
    case "inventory":
    case "stock":
      if (!e.ledger.setInventory(ev.productId, ev.category, ev.stock, ev.priceCents, ev.costCents, ev.ts)) e.counters.staleInventory++;
      break;
    case "purchase":
      onPurchase(e, ev, rng, out);
      break;
    case "visit":
    case "send":
      // Decide on what was known before this event: "minutes since last event" is then the gap
      // before this visit, not 0.
      decide(e, ev, rng, out);
      observeCustomer(e, ev);
      break;
    default:
      observeCustomer(e, ev);
  }
  return out;
}

// No object spread in this file's hot paths: in Node 20, `{ ...base, more }` (a spread followed by
// more properties) costs 2–5 µs per object, a quarter of decide() (measured, bench/decide.bench.ts).
function observeCustomer(e: Engine, ev: CustomerEvent): CustomerState {
  const c = e.features.getOrCreate(ev.customerId);
  const k = e.cfg.features.topCategories;
  switch (ev.type) {
    case "view":
    case "click":
      observe(c, { ts: ev.ts, type: ev.type, category: ev.category ?? (ev.productId ? e.ledger.products.get(ev.productId)?.category : undefined) }, k);
      break;
    case "cart":
      observe(c, { ts: ev.ts, type: "cart", priceCents: ev.priceCents, quantity: ev.quantity }, k);
      break;
    case "purchase":
      observe(c, { ts: ev.ts, type: "purchase", promoted: ev.promotionId !== undefined }, k);
      break;
    default:
      observe(c, { ts: ev.ts, type: ev.type }, k);
  }
  return c;
}

/** Features of a customer at a time, for segments and for callers that explain decisions. */
export function customerFeatures(e: Engine, customerId: string, nowMs: number): FeatureVector {
  return featuresOf(e.features.getOrCreate(customerId), nowMs);
}

function decide(e: Engine, ev: DecisionPointEvent, rng: Rng, out: Effect[]): void {
  const channel: Channel = ev.channel;
  const customer = e.features.getOrCreate(ev.customerId);
  const segment = segmentOf(featureView(customer, ev.ts), e.cfg.segments);
  const excluded: Decision["explanation"]["excluded"] = [];
  const eligible: string[] = [];
  const capOk = capAllows(customer, channel, ev.ts, e.cfg);
  for (const p of e.promotions.values()) {
    const why = exclusionOf(p, channel, ev.ts, customer, e.ledger, e.cfg, capOk);
    if (why) excluded.push({ promotionId: p.id, reason: why });
    else eligible.push(p.id);
  }
  const id = `d-${ev.id}`;
  const expiresAt = ev.ts + e.cfg.attributionWindowMs[channel];
  e.counters.decisions++;
  if (eligible.length === 0) {
    // Forced control: published (every decision point gets a decision) but not learned from, and
    // certain (propensity 1): no policy chose it.
    const d: Decision = {
      id,
      ts: ev.ts,
      customerId: ev.customerId,
      channel,
      promotionId: CONTROL,
      holdout: false,
      segment,
      propensity: 1,
      eventId: ev.id,
      expiresAt,
      reason: "nothing-eligible",
      explanation: { candidates: [], excluded },
    };
    out.push({ kind: "decision", decision: d });
    addPending(e, d, false, 0, undefined, rng, out);
    return;
  }
  const pick = choose(e.arms, segment, eligible, ev.ts, rng, e.cfg.bandit);
  const d: Decision = {
    id,
    ts: ev.ts,
    customerId: ev.customerId,
    channel,
    promotionId: pick.armId,
    holdout: pick.holdout,
    segment,
    propensity: pick.propensity,
    eventId: ev.id,
    expiresAt,
    explanation: { candidates: pick.scores, excluded },
  };
  let reserved = 0;
  let reservedProductId: string | undefined;
  if (pick.armId !== CONTROL) {
    const p = e.promotions.get(pick.armId)!;
    reserved = reservationCents(p, e.ledger);
    e.ledger.reserveBudget(p.id, reserved);
    if (p.productId !== undefined) {
      e.ledger.reserveUnit(p.productId);
      reservedProductId = p.productId;
    }
    const cap = e.cfg.frequencyCaps[channel];
    recordOffer(customer, channel, ev.ts, cap.maxOffers, e.watermarkMs - e.cfg.features.allowedLatenessMs - cap.windowMs);
    const offer: NonNullable<Decision["offer"]> = { kind: p.kind, maxDiscountCents: reserved };
    if (p.percentOff !== undefined) offer.percentOff = p.percentOff;
    if (p.amountOffCents !== undefined) offer.amountOffCents = p.amountOffCents;
    if (p.productId !== undefined) offer.productId = p.productId;
    if (p.category !== undefined) offer.category = p.category;
    d.offer = offer;
  }
  out.push({ kind: "decision", decision: d });
  addPending(e, d, true, reserved, reservedProductId, rng, out);
}

function addPending(e: Engine, d: Decision, learn: boolean, reservedCents: number, reservedProductId: string | undefined, rng: Rng, out: Effect[]): void {
  const p: Pending = {
    decisionId: d.id,
    customerId: d.customerId,
    channel: d.channel,
    promotionId: d.promotionId,
    segment: d.segment,
    holdout: d.holdout,
    learn,
    ts: d.ts,
    expiresAt: d.expiresAt,
    reservedCents,
    reservedProductId,
    closed: false,
    seq: 0,
  };
  e.pending.add(p);
  // A decision counts as a failure until it converts (provisional failure). Successes arrive within
  // minutes but failures only when the window closes (hours for email): counting only what has
  // closed would show arms as converting far more than they do, most for arms used on long-window
  // channels, and bias the policy toward them.
  if (learn) e.arms.update(p.promotionId, p.segment, 0, p.ts);
  while (e.pending.open > e.cfg.maxPending) {
    const old = e.pending.popOldest();
    if (!old) break;
    e.counters.overflowed++;
    // Closed early to bound memory: its outcome is unknown, so it releases its reservations but
    // teaches the posterior nothing (learning a failure would bias every arm down under load).
    if (old.learn) e.arms.retractFailure(old.promotionId, old.segment, old.ts, d.ts);
    old.learn = false;
    out.push({ kind: "outcome", outcome: close(e, old, { converted: false, marginCents: 0, discountCents: 0, redeemed: false, cause: "overflow", ts: d.ts }, rng) });
  }
}

/** Closes every open decision whose window ended more than the allowed lateness ago. */
function expire(e: Engine, rng: Rng, out: Effect[]): void {
  const before = e.watermarkMs - e.cfg.features.allowedLatenessMs;
  for (let p = e.pending.popExpired(before); p; p = e.pending.popExpired(before)) {
    out.push({ kind: "outcome", outcome: close(e, p, { converted: false, marginCents: 0, discountCents: 0, redeemed: false, cause: "expired", ts: p.expiresAt }, rng) });
  }
}

function marginOf(e: Engine, ev: Extract<ShopEvent, { type: "purchase" }>): number {
  const share = e.cfg.bandit.defaultMarginShare;
  if (!ev.items || ev.items.length === 0) return Math.round(ev.totalCents * share) - (ev.discountCents ?? 0);
  let m = 0;
  for (const it of ev.items) {
    const info = e.ledger.products.get(it.productId);
    const cost = info ? info.costCents : Math.round(it.priceCents * (1 - share));
    m += (it.priceCents - cost) * it.quantity;
  }
  return m - (ev.discountCents ?? 0);
}

function onPurchase(e: Engine, ev: Extract<ShopEvent, { type: "purchase" }>, rng: Rng, out: Effect[]): void {
  observeCustomer(e, ev);
  for (const it of ev.items ?? []) e.ledger.sold(it.productId, it.quantity, ev.ts);
  const p = creditedDecision(e.pending.openAt(ev.customerId, ev.ts), ev);
  if (!p) return;
  const redeemed = ev.promotionId !== undefined && ev.promotionId === p.promotionId;
  out.push({
    kind: "outcome",
    outcome: close(e, p, { converted: true, marginCents: marginOf(e, ev), discountCents: redeemed ? ev.discountCents ?? 0 : 0, redeemed, cause: "purchase", ts: ev.ts }, rng),
  });
}

/**
 * The one open decision a purchase is credited to: the decision it redeemed (by id, else the newest
 * one of the redeemed promotion), otherwise the newest decision before it (last touch). The others
 * stay open. Crediting every open decision instead inflated rewards for shoppers who were shown
 * several decisions (40% of purchases closed two or more in a `steady` evaluation run), most for
 * control, which frequent visitors see most.
 */
function creditedDecision(open: Pending[], ev: Extract<ShopEvent, { type: "purchase" }>): Pending | undefined {
  if (open.length === 0) return undefined;
  if (ev.decisionId !== undefined) {
    const byId = open.find((p) => p.decisionId === ev.decisionId);
    if (byId) return byId;
  }
  const newest = (xs: Pending[]) => xs.reduce<Pending | undefined>((a, p) => (!a || p.ts > a.ts || (p.ts === a.ts && p.seq > a.seq) ? p : a), undefined);
  if (ev.promotionId !== undefined) {
    const same = newest(open.filter((p) => p.promotionId === ev.promotionId));
    if (same) return same;
  }
  return newest(open);
}

interface Close {
  converted: boolean;
  marginCents: number;
  discountCents: number;
  redeemed: boolean;
  cause: Outcome["cause"];
  ts: number;
}

function close(e: Engine, p: Pending, c: Close, rng: Rng): Outcome {
  e.pending.close(p);
  e.counters.outcomes++;
  let spent = 0;
  if (p.promotionId !== CONTROL) {
    spent = e.ledger.settleBudget(p.promotionId, p.reservedCents, c.redeemed ? c.discountCents : 0);
    if (p.reservedProductId !== undefined) {
      e.ledger.releaseUnit(p.reservedProductId);
      if (c.redeemed) e.ledger.consumeUnit(p.reservedProductId);
    }
  }
  const b = e.cfg.bandit;
  const reward = !c.converted ? 0 : b.reward === "conversion" ? 1 : Math.min(1, Math.max(0, c.marginCents / b.marginCapCents));
  if (p.learn) {
    // Bernoulli trick (Agrawal & Goyal 2012): a reward in [0,1] becomes a 0/1 observation with that mean.
    // The failure was counted when the decision was made; a success replaces it.
    const success: 0 | 1 = reward >= 1 ? 1 : reward <= 0 ? 0 : rng.next() < reward ? 1 : 0;
    if (success) {
      e.arms.retractFailure(p.promotionId, p.segment, p.ts, Math.max(c.ts, p.ts));
      e.arms.update(p.promotionId, p.segment, 1, Math.max(c.ts, p.ts));
    }
  }
  return {
    decisionId: p.decisionId,
    customerId: p.customerId,
    channel: p.channel,
    promotionId: p.promotionId,
    segment: p.segment,
    holdout: p.holdout,
    learn: p.learn,
    converted: c.converted,
    reward,
    marginCents: c.marginCents,
    discountCents: spent,
    cause: c.cause,
    ts: c.ts,
  };
}
