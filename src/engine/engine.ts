// The decision pipeline as a pure function of (state, event, rng): no clock, no I/O. The processor,
// the evaluation harness and the benchmarks all drive this same code. Its parts, each in a module of
// its name: intake (lateness, duplicates, watermark), points (which events are decision points),
// decide (guards, margins, model, policy), attribution (open decisions, purchases, expiry, learning),
// sync (partitions sharing what they learned).
import { AmountPosterior, ArmTable, LogisticArms, logit } from "../bandit/index.ts";
import type { Rng } from "../random/index.ts";
import type { Channel, CustomerEvent, ShopEvent } from "../events/index.ts";
import { FeatureStore, featuresOf, observe, type CustomerState, type FeatureVector } from "../features/index.ts";
import { RecentIds } from "./recent.ts";
import { expire, onPurchase } from "./attribution.ts";
import { CONTEXT_DIMS } from "./context.ts";
import { decide, type LoggedChoice } from "./decide.ts";
import { PromotionTable } from "./eligibility.ts";
import { admit, advanceWatermark, clockAt } from "./intake.ts";
import { Ledger } from "./ledger.ts";
import { PendingTable } from "./pending.ts";
import { decisionPointOf } from "./points.ts";
import { DecideScratch } from "./scratch.ts";
import type { Engine } from "./state.ts";
import { applyModeEvent, createSafeState, graduationDue } from "./safe.ts";
import { applySync } from "./sync.ts";
import { CONTROL, promotionFrom, type Effect, type EngineConfig, type Promotion } from "./types.ts";

export { FAR_FUTURE_RUN_TO_JUMP } from "./intake.ts";

export function logisticFor(cfg: EngineConfig): LogisticArms {
  const l = cfg.bandit.logistic;
  const mean = new Array<number>(CONTEXT_DIMS).fill(0);
  mean[0] = logit(l.priorConversion);
  return new LogisticArms({ dims: CONTEXT_DIMS, baselinePriorMean: mean, baselinePriorSd: l.priorSd, armPriorSd: l.armPriorSd, contextPriorSd: l.contextPriorSd, halfLifeMs: cfg.bandit.halfLifeMs });
}

export function amountsFor(cfg: EngineConfig): AmountPosterior {
  return new AmountPosterior({ priorStrength: 5, initialMean: 1000, halfLifeMs: cfg.bandit.halfLifeMs });
}

export interface EngineOptions {
  /** Keep what changed since the last checkpoint part (the processor's incremental checkpoints). */
  trackChanges?: boolean;
}

export function createEngine(cfg: EngineConfig, opts: EngineOptions = {}): Engine {
  const arms = new ArmTable({
    priorAlpha: cfg.bandit.priorAlpha,
    priorBeta: cfg.bandit.priorBeta,
    hierarchyStrength: cfg.bandit.hierarchyStrength,
    halfLifeMs: cfg.bandit.halfLifeMs,
  });
  const e: Engine = {
    cfg,
    promotions: new PromotionTable(),
    arms,
    logistic: cfg.bandit.model === "logistic" ? logisticFor(cfg) : undefined,
    amounts: amountsFor(cfg),
    features: new FeatureStore({
      maxCustomers: cfg.features.maxCustomers,
      maxMemoryBytes: cfg.features.maxMemoryMb !== undefined ? cfg.features.maxMemoryMb * 2 ** 20 : undefined,
      hotCustomers: cfg.features.hotCustomers,
      idleTtlMs: cfg.features.idleTtlMs,
      offerMemoryMs: longestCapWindowMs(cfg) + cfg.features.allowedLatenessMs,
      offerMemoryMsByChannel: capReachMsByChannel(cfg),
      trackChanges: opts.trackChanges ?? false,
    }),
    ledger: new Ledger(),
    pending: new PendingTable(),
    recentIds: new RecentIds(cfg.features.recentEventIds),
    watermarkMs: 0,
    clockLeaders: [],
    farFutureRun: 0,
    farFutureSources: [],
    farFutureAnchorMs: 0,
    lastPurgeMs: 0,
    remoteArms: {},
    remoteLogistic: {},
    counters: { events: 0, decisions: 0, late: 0, farFuture: 0, duplicates: 0, outcomes: 0, overflowed: 0, staleInventory: 0 },
    scratch: new DecideScratch(),
    safe: createSafeState(cfg.safe),
  };
  arms.add(CONTROL);
  e.logistic?.add(CONTROL);
  for (const p of cfg.promotions) addPromotion(e, p);
  return e;
}

/** How far back each channel's cap reaches from the clock: its window, plus the allowed lateness. */
function capReachMsByChannel(cfg: EngineConfig): Partial<Record<Channel, number>> {
  const out: Partial<Record<Channel, number>> = {};
  for (const [ch, c] of Object.entries(cfg.frequencyCaps)) out[ch as Channel] = c.windowMs + cfg.features.allowedLatenessMs;
  return out;
}

function longestCapWindowMs(cfg: EngineConfig): number {
  let w = 0;
  for (const c of Object.values(cfg.frequencyCaps)) w = Math.max(w, c.windowMs);
  return w;
}

/**
 * Adds (or updates) a promotion at runtime. A new one starts from the prior (the tabular model: in
 * every segment; the logistic model: no effect beyond the shared baseline, so it converts like the
 * average arm until its own outcomes come in) and is explored. Updating an existing one keeps what it
 * learned and its spend; a new budget applies from now.
 */
export function addPromotion(e: Engine, p: Promotion): void {
  e.promotions.set(p.id, p);
  e.arms.add(p.id);
  e.logistic?.add(p.id);
  // Partitioned, a promotion's budget here is what the global ledger granted this partition.
  if (!e.cfg.partitioned) e.ledger.ensureBudget(p.id, p.budgetCents);
  else if (!e.ledger.budgets.has(p.id)) e.ledger.ensureBudget(p.id, 0);
}

export function removePromotion(e: Engine, id: string): void {
  e.promotions.delete(id);
}

/**
 * Processes one event; returns what the shell must do (publish decisions, dead letters) and outcomes.
 * Pure: everything it needs is in the engine, the event and the rng (seed it from the event id, as
 * the processor does with rngFromKey, and a replay makes the same decisions).
 *
 * `logged` replays a shop's log through this engine (what-if evaluation, src/eval): at a decision point
 * the engine takes the logged decision instead of its own, reporting into it what its policy would have
 * done there; `null` says the log holds no decision for this event (the engine then decides nothing).
 */
export function step(e: Engine, ev: ShopEvent, rng: Rng, logged?: LoggedChoice | null): Effect[] {
  const out: Effect[] = [];
  // Customers handed out by the store during the previous event are no longer held by anyone.
  e.features.release();
  // Internal events of partitioned processors carry no shopper's time: they neither move the
  // watermark nor go through the lateness checks.
  if (ev.type === "allowance") {
    e.ledger.grant(ev.resource, ev.key, ev.total);
    return out;
  }
  if (ev.type === "sync") {
    applySync(e, ev.from, ev.arms, ev.logistic, ev.safe);
    return out;
  }
  // A policy mode change (issue 23: a graduation, or a person's) is applied where it stands in the log,
  // like a promotion change.
  if (ev.type === "mode") {
    applyModeEvent(e, ev);
    return out;
  }
  // A promotion change (issue 15) is applied where it stands in the log; its time is when it was asked
  // for, not a shopper's, so it neither moves the watermark nor can be late.
  if (ev.type === "promotion") {
    addPromotion(e, promotionFrom(ev.promotion, ev.ts));
    return out;
  }
  if (!admit(e, ev, out)) return out;
  if (advanceWatermark(e, clockAt(e, ev))) expire(e, rng, out);
  switch (ev.type) {
    case "inventory":
    case "stock":
      if (!e.ledger.setInventory(ev.productId, ev.category, ev.stock, ev.priceCents, ev.costCents, ev.ts)) e.counters.staleInventory++;
      break;
    default: {
      const c = e.features.getOrCreate(ev.customerId);
      const at = decisionPointOf(c, ev, e.ledger, e.cfg);
      // Decide on what was known before this event: "minutes since last event" is then the gap
      // before it, not 0, and a view's own count is not yet in the windows.
      if (at) {
        if (logged === null) e.counters.unloggedPoints = (e.counters.unloggedPoints ?? 0) + 1;
        else decide(e, ev, at.point, at.product, rng, out, logged, c);
      }
      if (ev.type === "purchase") onPurchase(e, ev, rng, out);
      observeCustomer(e, c, ev);
    }
  }
  // An apprentice whose evidence now says it is better than the rule asks to graduate (once): the
  // shell puts the change in the log, and it applies where it stands there.
  if (e.safe.mode === "apprentice") {
    const evidence = graduationDue(e);
    if (evidence) out.push({ kind: "mode", mode: e.cfg.safe!.graduateTo, reason: "graduated", evidence, eventId: ev.id, ts: ev.ts, since: e.safe.since });
  }
  return out;
}

// No object spread in this file's hot paths: in Node 20, `{ ...base, more }` (a spread followed by
// more properties) costs 2–5 µs per object, a quarter of decide() (measured, bench/decide.bench.ts).
function observeCustomer(e: Engine, c: CustomerState, ev: CustomerEvent): void {
  const k = e.cfg.features.topCategories;
  switch (ev.type) {
    case "view":
    case "click":
      observe(c, { ts: ev.ts, type: ev.type, category: ev.category ?? (ev.productId ? e.ledger.products.get(ev.productId)?.category : undefined) }, k);
      break;
    case "cart":
      observe(c, { ts: ev.ts, type: "cart", priceCents: ev.priceCents, quantity: ev.quantity, action: ev.action }, k);
      break;
    case "purchase":
      observe(c, { ts: ev.ts, type: "purchase", promoted: ev.promotionId !== undefined }, k);
      break;
    default:
      observe(c, { ts: ev.ts, type: ev.type }, k);
  }
}

/** Features of a customer at a time, for segments and for callers that explain decisions. */
export function customerFeatures(e: Engine, customerId: string, nowMs: number): FeatureVector {
  return featuresOf(e.features.getOrCreate(customerId), nowMs);
}
