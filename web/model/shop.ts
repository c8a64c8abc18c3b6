// Pure: what the shop page (/shop) shows and sends. The offer a decision makes on a product, priced by
// the contract's one offer rule (src/events/offer.ts: the rule the engine's budget guard and the
// simulator's checkout use, so the discount a person gets is the one the engine reserved); the decision's
// "why" as rows; and the purchase an order makes. No DOM, no fetch.
import type { Decision } from "../../src/events/index.ts";
// The offer rule itself, not the contract's index: the index builds the schemas' validators when loaded,
// 92 kB of TypeBox in the shop's bundle for 0.5 kB of arithmetic; offer.ts imports nothing.
import { offerDiscountCents, offerQuantity, type OfferTerms } from "../../src/events/offer.ts";
import type { CatalogItemView } from "../../src/server/index.ts";

/** What the page knows of a promotion besides the decision: its name and bundle size (GET /api/promotions). */
export interface PromotionInfo {
  id: string;
  name: string;
  bundleQuantity?: number | undefined;
}

/** An offer as the product page shows it and an order redeems it. */
export interface OfferView {
  promotionId: string;
  /** The promotion's name, else its id. */
  name: string;
  decisionId: string;
  /** The decision's time (the shop's clock): an order redeeming it is never stamped earlier. */
  decidedAt: number;
  /** What it is, in a few words: "10% off", "$5.00 off", "15% off 2". */
  terms: string;
  productId: string;
  /** Units one purchase under the offer takes (a bundle's, else 1). */
  quantity: number;
  /** Price of those units before the discount. */
  listCents: number;
  discountCents: number;
  /** What the person pays for them with the offer. */
  totalCents: number;
  /** Until when (the shop's time, ms) it may be redeemed: the decision's attribution window. */
  expiresAt: number;
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  return `${sign}$${(Math.abs(cents) / 100).toFixed(2)}`;
}

/** Why a customer id cannot be used (the contract's limits: 1 to 128 characters), or null when it can. */
export function customerIdProblem(id: string): string | null {
  if (id.length === 0) return "a customer id cannot be empty";
  if (id.length > 128) return "a customer id is at most 128 characters";
  // Spaces at either end would make two ids that look the same.
  if (id.trim() !== id) return "a customer id cannot start or end with a space";
  if (/[\u0000-\u001f\u007f]/.test(id)) return "a customer id cannot hold control characters";
  return null;
}

/** A new shopper's id, from random bytes: `shopper-` and 8 base-36 characters (simulated shoppers are c00001…). */
export function newCustomerId(random: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += ((random[i] ?? 0) % 36).toString(36);
  return `shopper-${s}`;
}

function termsText(o: NonNullable<Decision["offer"]>, quantity: number): string {
  if (o.kind === "free-shipping") return `free shipping (${formatCents(o.amountOffCents ?? 0)} off)`;
  if (o.kind === "amount") return `${formatCents(o.amountOffCents ?? 0)} off`;
  const pct = `${o.percentOff ?? 0}% off`;
  return o.kind === "bundle" ? `${pct} when you buy ${quantity}` : pct;
}

/**
 * The offer the decision makes on the product, or null: a control decision, no offer in it, an offer
 * made for another product, or one that gives nothing on this product. Priced by the offer rule, capped
 * by what the decision reserved (`offer.maxDiscountCents`) as the simulator's checkout does.
 */
export function offerFor(d: Decision | null | undefined, product: CatalogItemView, promo?: PromotionInfo): OfferView | null {
  if (!d || d.promotionId === "control" || !d.offer) return null;
  if (d.productId !== undefined && d.productId !== product.id) return null;
  const o = d.offer;
  const terms: OfferTerms = {
    kind: o.kind as OfferTerms["kind"],
    percentOff: o.percentOff,
    amountOffCents: o.amountOffCents,
    productId: o.productId,
    category: o.category,
    maxDiscountCents: o.maxDiscountCents,
    bundleQuantity: promo?.bundleQuantity,
  };
  const p = { productId: product.id, category: product.category, priceCents: product.priceCents };
  const quantity = offerQuantity(terms, p);
  const discountCents = offerDiscountCents(terms, p, quantity, o.maxDiscountCents);
  if (discountCents <= 0) return null;
  const listCents = product.priceCents * quantity;
  return {
    promotionId: d.promotionId,
    name: promo?.name ?? d.promotionId,
    decisionId: d.id,
    decidedAt: d.ts,
    terms: termsText(o, quantity),
    productId: product.id,
    quantity,
    listCents,
    discountCents,
    totalCents: listCents - discountCents,
    expiresAt: d.expiresAt,
  };
}

/** Whether the offer can still be redeemed at the shop's time `nowMs` (the end of its window is the engine's). */
export function offerUsable(o: OfferView, nowMs: number): boolean {
  return nowMs <= o.expiresAt;
}

export interface CandidateRow {
  promotionId: string;
  name: string;
  /** Margin if bought under this arm, cents (absent when the decision had no margin to go by). */
  marginCents: number | undefined;
  /** The sampled conversion probability: score ÷ margin (absent without a margin). */
  conversion: number | undefined;
  /** The sampled score: margin × conversion, the expected margin (cents), or the conversion itself without a margin. */
  score: number;
  chosen: boolean;
}

export interface ExcludedRow {
  promotionId: string;
  name: string;
  reason: string;
  /** The reason in words. */
  because: string;
}

const BECAUSE: Record<string, string> = {
  "out-of-stock": "its stock is promised or gone",
  "budget-spent": "its budget is spent",
  "frequency-cap": "you have had enough offers lately",
  "off-schedule": "it is not running now",
  "wrong-channel": "it is not offered on this channel",
  "not-applicable": "it does not apply to this product",
  "no-margin": "its discount would take all the margin",
};

/** A decision's explanation as rows: candidates best score first (the chosen one marked), then the excluded. */
export function whyOf(d: Decision, names: ReadonlyMap<string, string> = new Map()): { candidates: CandidateRow[]; excluded: ExcludedRow[] } {
  const name = (id: string) => (id === "control" ? "no promotion (control)" : (names.get(id) ?? id));
  const candidates = d.explanation.candidates
    .map((c): CandidateRow => {
      const m = c.marginCents !== undefined && c.marginCents > 0 ? c.marginCents : undefined;
      return { promotionId: c.promotionId, name: name(c.promotionId), marginCents: m, conversion: m === undefined ? undefined : c.score / m, score: c.score, chosen: c.promotionId === d.promotionId };
    })
    .sort((a, b) => b.score - a.score);
  const excluded = d.explanation.excluded.map((e): ExcludedRow => ({ promotionId: e.promotionId, name: name(e.promotionId), reason: e.reason, because: BECAUSE[e.reason] ?? e.reason }));
  return { candidates, excluded };
}

/** A line of the cart: a product, its units, and the offer it was added with (if the person takes it). */
export interface CartLine {
  productId: string;
  category: string;
  priceCents: number;
  quantity: number;
  offer?: OfferView | undefined;
}

/** The purchase an order makes, as the contract's purchase event holds it (without id and time). */
export interface PurchaseFields {
  totalCents: number;
  items: { productId: string; category: string; quantity: number; priceCents: number }[];
  promotionId?: string;
  decisionId?: string;
  discountCents?: number;
}

/**
 * The purchase of the lines. A purchase event redeems one promotion (one promotionId, decisionId and
 * discountCents), so an order uses at most one offer: the one that saves most; the other lines are at
 * full price. A line bought under its offer holds at least the offer's units (a bundle's two).
 */
export function purchaseOf(lines: readonly CartLine[], nowMs: number): PurchaseFields {
  let best: CartLine | undefined;
  for (const l of lines) if (l.offer && offerUsable(l.offer, nowMs) && l.quantity >= l.offer.quantity && (!best || l.offer.discountCents > best.offer!.discountCents)) best = l;
  const items = lines.map((l) => ({ productId: l.productId, category: l.category, quantity: l.quantity, priceCents: l.priceCents }));
  const gross = lines.reduce((s, l) => s + l.priceCents * l.quantity, 0);
  if (!best?.offer) return { totalCents: gross, items };
  const o = best.offer;
  return { totalCents: gross - o.discountCents, items, promotionId: o.promotionId, decisionId: o.decisionId, discountCents: o.discountCents };
}

/** Adds units of a product to the cart (one line per product; a line keeps the newest offer it was given). */
export function addToCart(lines: readonly CartLine[], line: CartLine): CartLine[] {
  const i = lines.findIndex((l) => l.productId === line.productId);
  if (i < 0) return [...lines, line];
  const old = lines[i]!;
  const merged: CartLine = { ...old, priceCents: line.priceCents, quantity: old.quantity + line.quantity, offer: line.offer ?? old.offer };
  return lines.map((l, k) => (k === i ? merged : l));
}

/**
 * The time to stamp on an event the shop sends itself: the shop's clock (GET /api/clock; in a simulated
 * shop the simulator's, which is not the wall clock: an event stamped with the wall clock can be
 * dead-lettered as late), never before `notBeforeMs` (a purchase follows the decision it redeems).
 */
export function eventTimeMs(shopNowMs: number, notBeforeMs = 0): number {
  return Math.max(Math.round(shopNowMs), notBeforeMs);
}

/** What the page says when a view brought no decision. */
export function noDecisionText(reason: string | undefined): string {
  switch (reason) {
    case "not-a-decision-point":
      return "No decision at this view: this visit has had its decision point already (one product view per visit by default). Start a new visit to be asked again.";
    case "timeout":
      return "No answer in time: the page shows no offer (the shop must never wait for one). Ask again: the same event id gets the same decision.";
    case undefined:
      return "No decision.";
    default:
      return `No decision: the event was refused (${reason}).`;
  }
}

/** What a visit remembers across a reload: the decision made for each product viewed, and the decisions an order used. */
export interface VisitMemory {
  decisions: Map<string, Decision>;
  redeemed: Set<string>;
}

/** The visit memory as sessionStorage keeps it (JSON), for the visit `sessionId`. */
export function writeVisitMemory(sessionId: string, decisions: ReadonlyMap<string, Decision>, redeemed: ReadonlySet<string>): string {
  return JSON.stringify({ sessionId, decisions: [...decisions], redeemed: [...redeemed] });
}

/** The memory of the visit `sessionId` from what sessionStorage holds: empty when it is another visit's, or unreadable. */
export function readVisitMemory(raw: string | null, sessionId: string): VisitMemory {
  const empty: VisitMemory = { decisions: new Map(), redeemed: new Set() };
  if (raw === null) return empty;
  try {
    const v = JSON.parse(raw) as { sessionId?: unknown; decisions?: unknown; redeemed?: unknown };
    if (v.sessionId !== sessionId || !Array.isArray(v.decisions) || !Array.isArray(v.redeemed)) return empty;
    const decisions = new Map<string, Decision>();
    for (const e of v.decisions as unknown[]) {
      if (Array.isArray(e) && typeof e[0] === "string" && e[1] && typeof e[1] === "object" && typeof (e[1] as Decision).id === "string") decisions.set(e[0], e[1] as Decision);
    }
    return { decisions, redeemed: new Set((v.redeemed as unknown[]).filter((x): x is string => typeof x === "string")) };
  } catch {
    return empty;
  }
}
