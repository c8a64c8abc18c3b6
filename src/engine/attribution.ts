// Attribution: a decision's open entry (pending.ts), the purchase it is credited with or the window's
// end, and what the models learn from either.
import type { Decision, OutcomeRecord, ShopEvent } from "../events/index.ts";
import { noteOutcome } from "../features/index.ts";
import { closeSafe, matureSafe, type SafeEntry } from "./safe.ts";
import type { Rng } from "../random/index.ts";
import type { Engine } from "./state.ts";
import { CONTROL, type Effect, type Outcome, type Pending } from "./types.ts";

/**
 * Opens the decision's entry and learns it provisionally as a failure (a decision counts as a failure
 * from the moment it is made until it converts: successes arrive within minutes but failures only when
 * the window closes, hours for email, and counting only what has closed would show arms as converting
 * far more than they do, most for arms used on long-window channels). Bounds the table: past
 * maxPending the entry expiring soonest closes early, learning nothing.
 */
export function addPending(
  e: Engine,
  d: Decision,
  cell: string,
  x: number[] | undefined,
  learn: boolean,
  reservedCents: number,
  reservedProductId: string | undefined,
  reservedUnits: number,
  rng: Rng,
  out: Effect[],
  contextFactor?: number,
  safe?: SafeEntry,
): void {
  // One literal with every field, `candidates` undefined but for holdout decisions: a conditional
  // spread in it (`...(holdout ? { candidates } : {})`) took the slow path of object creation for
  // every field, ~8% of decide() (bench/decide.bench.ts profile, issue #16). An undefined field is
  // what an absent one is to the checkpoint's JSON and to every reader.
  const p: Pending = {
    decisionId: d.id,
    customerId: d.customerId,
    channel: d.channel,
    promotionId: d.promotionId,
    segment: d.segment,
    cell,
    x,
    point: d.point,
    productId: d.productId,
    candidates: d.holdout ? holdoutCandidates(d) : undefined,
    holdout: d.holdout,
    propensity: d.propensity,
    learn,
    ts: d.ts,
    expiresAt: d.expiresAt,
    reservedCents,
    reservedProductId,
    reservedUnits: reservedProductId !== undefined ? reservedUnits : undefined,
    contextFactor: learn ? contextFactor : undefined,
    contextAt: undefined,
    safe,
    closed: false,
    seq: 0,
  };
  e.pending.add(p);
  if (learn) {
    e.arms.update(p.promotionId, p.cell, 0, p.ts);
    if (x && e.logistic) {
      e.logistic.learn(p.promotionId, x, 0, p.ts);
      if (p.contextFactor !== undefined) p.contextAt = e.logistic.evidence.open();
    }
  }
  while (e.pending.open > e.cfg.maxPending) {
    const old = e.pending.popOldest();
    if (!old) break;
    e.counters.overflowed++;
    // Closed early to bound memory: its outcome is unknown, so it teaches the model nothing (learning a
    // failure would bias every arm down under load). Its offer is still valid: close() hands its
    // reservations to the ledger to hold until the offer expires (released here, they were promised again).
    if (old.learn) {
      e.arms.retractFailure(old.promotionId, old.cell, old.ts, d.ts);
      if (old.x && e.logistic) e.logistic.retractFailure(old.promotionId, old.x, d.ts);
      if (old.contextAt !== undefined) e.logistic?.evidence.withdraw(old.contextAt);
    }
    // The entry itself is left as it was opened (close() reports an overflow as not learned): a
    // checkpoint's delta captured it open and writes it beside the loop, after this may have run.
    out.push({ kind: "outcome", outcome: close(e, old, { converted: false, marginCents: 0, revenueCents: 0, discountCents: 0, redeemed: false, cause: "overflow", ts: d.ts }, rng) });
  }
}

/** A holdout decision's candidate promotions (control left out), for uplift matched on them. */
function holdoutCandidates(d: Decision): string[] {
  const out: string[] = [];
  for (const c of d.explanation.candidates) if (c.promotionId !== CONTROL) out.push(c.promotionId);
  return out;
}

/** Closes every open decision whose window ended more than the allowed lateness ago. */
export function expire(e: Engine, rng: Rng, out: Effect[]): void {
  const before = e.watermarkMs - e.cfg.features.allowedLatenessMs;
  for (let p = e.pending.popExpired(before); p; p = e.pending.popExpired(before)) {
    out.push({ kind: "outcome", outcome: close(e, p, { converted: false, marginCents: 0, revenueCents: 0, discountCents: 0, redeemed: false, cause: "expired", ts: p.expiresAt }, rng) });
  }
  e.ledger.releaseHeld(before);
  matureSafe(e, before);
}

type PurchaseEvent = Extract<ShopEvent, { type: "purchase" }>;

/**
 * The purchase's margin after discount: item prices less the products' costs (the ledger's, else the
 * default share), less the discount. Without items, the goods' price is what was paid (totalCents, after
 * the discount) plus the discount: the share of the paid total alone took the discount's share off twice.
 * Never above what was paid (totalCents).
 */
export function purchaseMarginCents(e: Engine, ev: PurchaseEvent): number {
  const share = e.cfg.bandit.defaultMarginShare;
  const discount = ev.discountCents ?? 0;
  if (!ev.items || ev.items.length === 0) return Math.round((ev.totalCents + discount) * share) - discount;
  let m = 0;
  for (const it of ev.items) {
    const info = e.ledger.products.get(it.productId);
    const cost = info ? info.costCents : Math.round(it.priceCents * (1 - share));
    m += (it.priceCents - cost) * it.quantity;
  }
  // No more than was paid: lines that contradict the total (10,000 × $10M on a 1-cent order, each
  // field within the schema's bounds) gave a margin of 3e12 cents, which the KPIs' margin, the
  // outcome and the learned margin of a purchase took as it was.
  return Math.min(m - discount, ev.totalCents);
}

/** A purchase closes the one open decision it is credited to (creditedDecision) as a conversion. */
export function onPurchase(e: Engine, ev: PurchaseEvent, rng: Rng, out: Effect[]): void {
  for (const it of ev.items ?? []) e.ledger.sold(it.productId, it.quantity, ev.ts);
  const p = namedDecision(e, ev) ?? creditedDecision(e.pending.openAt(ev.customerId, ev.ts), ev);
  const redeemed = p !== undefined && ev.promotionId !== undefined && ev.promotionId === p.promotionId;
  // A redemption no open decision of its promotion took: its decision overflowed, and the discount the
  // shop gave is spent from what that offer still holds.
  if (ev.promotionId !== undefined && !redeemed) e.ledger.spendHeld(ev.promotionId, ev.discountCents ?? 0, ev.ts);
  if (!p) return;
  // A redemption sold the offer's units even when the purchase lists no items (they are optional):
  // released from the offer and not taken from stock, they counted as available until the shop's next figure.
  if (redeemed && p.reservedProductId !== undefined && !ev.items?.some((it) => it.productId === p.reservedProductId)) e.ledger.sold(p.reservedProductId, p.reservedUnits ?? 1, ev.ts);
  out.push({
    kind: "outcome",
    outcome: close(e, p, { converted: true, marginCents: purchaseMarginCents(e, ev), revenueCents: ev.totalCents, discountCents: redeemed ? ev.discountCents ?? 0 : 0, redeemed, cause: "purchase", ts: ev.ts }, rng),
  });
}

/**
 * The open decision a purchase names (its decisionId), when the purchase is within its window. Not
 * required to be stamped after it: the shop learns a decision's id only once it is made, so a purchase
 * naming one follows it whatever the clocks say, and the shop's clock and the one that stamped the
 * decision's event (the server's, for a decide call without ts) can differ. Required, it lost the
 * redemption of a purchase stamped a moment early: the decision expired as a failure, and the discount
 * the shop gave was never spent from the budget.
 */
function namedDecision(e: Engine, ev: PurchaseEvent): Pending | undefined {
  const p = ev.decisionId === undefined ? undefined : e.pending.openById(ev.customerId, ev.decisionId);
  return p && ev.ts <= p.expiresAt ? p : undefined;
}

/**
 * The one open decision a purchase is credited to when it names none that is open (namedDecision):
 * the newest decision of the promotion it redeemed; otherwise the newest decision made for a product
 * the purchase contains; otherwise the newest decision before it (last touch). The others stay open.
 * Crediting every open decision instead inflated rewards for shoppers who were shown several
 * decisions (40% of purchases closed two or more in a `steady` evaluation run), most for control,
 * which frequent visitors see most. Plain last touch, with a decision per product view, credited a
 * purchase made without a promotion to whatever offer the shopper saw next, so control lost the
 * purchases of frequent visitors (its conversion for shoppers who buy on half their visits was
 * learned as 0.28 instead of 0.53, `steady` seed 3): a purchase of a product now goes to the
 * decision made for that product.
 */
function creditedDecision(open: Pending[], ev: PurchaseEvent): Pending | undefined {
  if (open.length === 0) return undefined;
  const newest = (xs: Pending[]) => xs.reduce<Pending | undefined>((a, p) => (!a || p.ts > a.ts || (p.ts === a.ts && p.seq > a.seq) ? p : a), undefined);
  if (ev.promotionId !== undefined) {
    const same = newest(open.filter((p) => p.promotionId === ev.promotionId));
    if (same) return same;
  }
  if (ev.items && ev.items.length > 0) {
    const forItem = newest(open.filter((p) => p.productId !== undefined && ev.items!.some((it) => it.productId === p.productId)));
    if (forItem) return forItem;
  }
  return newest(open);
}

interface Close {
  converted: boolean;
  marginCents: number;
  revenueCents: number;
  discountCents: number;
  redeemed: boolean;
  cause: Outcome["cause"];
  ts: number;
}

/**
 * Closes an open decision: settles its budget and stock reservations (an overflow's stay held until
 * its offer expires), turns its provisional failure
 * into a success when it converted, feeds the learned amount (for decisions priced without a catalog)
 * and the customer's history of outcomes.
 */
export function close(e: Engine, p: Pending, c: Close, _rng: Rng): Outcome {
  e.pending.close(p);
  e.counters.outcomes++;
  let spent = 0;
  if (p.promotionId !== CONTROL && c.cause === "overflow") e.ledger.hold(p.promotionId, p.reservedCents, p.reservedProductId, p.reservedUnits ?? 1, p.expiresAt);
  // (An entry from a checkpoint before reservedUnits held one unit.)
  else if (p.promotionId !== CONTROL) spent = e.ledger.settle(p.promotionId, p.reservedCents, p.reservedProductId, p.reservedUnits ?? 1, c.redeemed ? c.discountCents : 0, c.redeemed);
  const at = Math.max(c.ts, p.ts);
  if (p.learn && c.converted) {
    e.arms.retractFailure(p.promotionId, p.cell, p.ts, at);
    e.arms.update(p.promotionId, p.cell, 1, at);
    if (p.x && e.logistic) e.logistic.turnToSuccess(p.promotionId, p.x, at);
    // The context evidence's reward is the objective's: the margin earned, or the conversion.
    if (p.contextFactor !== undefined && p.contextAt !== undefined) e.logistic?.evidence.convert(p.contextFactor, e.cfg.bandit.reward === "margin" ? c.marginCents : 1, p.contextAt);
  }
  if ((p.learn || p.holdout) && c.converted) e.amounts.add(p.promotionId, c.marginCents, at);
  // Safe start's sums take the margin earned in the objective's units (an overflow's is unknown).
  if (p.safe) closeSafe(e, p.safe, p.propensity, c.cause === "overflow" ? undefined : c.converted ? (e.cfg.bandit.reward === "margin" ? c.marginCents : 1) : 0, p.expiresAt, e.watermarkMs - e.cfg.features.allowedLatenessMs);
  if (c.cause !== "overflow") {
    const cust = e.features.getForUpdate(p.customerId);
    if (cust) noteOutcome(cust, p.promotionId !== CONTROL, c.converted);
  }
  // Every field in one literal (undefined where the entry has none), as addPending builds the entry:
  // conditional spreads took the slow path of object creation for all of them.
  return {
    decisionId: p.decisionId,
    eventId: p.decisionId.slice(2),
    point: p.point,
    productId: p.productId,
    propensity: p.propensity,
    openedAt: p.ts,
    revenueCents: c.revenueCents,
    closedBy: c.cause === "purchase" ? (c.redeemed ? "redeemed" : "purchased") : c.cause,
    customerId: p.customerId,
    channel: p.channel,
    promotionId: p.promotionId,
    segment: p.segment,
    holdout: p.holdout,
    candidates: p.candidates,
    learn: p.learn && c.cause !== "overflow",
    converted: c.converted,
    reward: c.converted ? 1 : 0,
    marginCents: c.marginCents,
    discountCents: spent,
    cause: c.cause,
    ts: c.ts,
  };
}

/** An outcome as the contract publishes it on `outcomes.<channel>` (msg id = its `id`). */
export function outcomeRecord(o: Outcome): OutcomeRecord {
  const r: OutcomeRecord = {
    id: `o-${o.decisionId}`,
    decisionId: o.decisionId,
    eventId: o.eventId,
    customerId: o.customerId,
    channel: o.channel,
    point: o.point,
    promotionId: o.promotionId,
    segment: o.segment,
    holdout: o.holdout,
    propensity: o.propensity,
    openedAt: o.openedAt,
    closedAt: o.ts,
    closedBy: o.closedBy,
    revenueCents: o.revenueCents,
    marginCents: o.marginCents,
    discountCents: o.discountCents,
    reward: o.reward,
    learned: o.learn && o.cause !== "overflow",
  };
  if (o.productId !== undefined) r.productId = o.productId;
  return r;
}
