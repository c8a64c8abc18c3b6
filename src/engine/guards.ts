import type { Channel, ExclusionReason } from "../events/index.ts";
import { offerFits, type CustomerState } from "../features/index.ts";
import type { Ledger } from "./ledger.ts";
import type { EngineConfig, Promotion } from "./types.ts";

/** The most an offer of this promotion can cost: what is reserved against its budget. */
export function reservationCents(p: Promotion, ledger: Ledger): number {
  let cost = p.maxDiscountCents;
  if ((p.kind === "percent" || p.kind === "bundle") && p.productId !== undefined) {
    const info = ledger.products.get(p.productId);
    if (info) cost = Math.min(cost, Math.ceil((info.priceCents * (p.percentOff ?? 0)) / 100));
  } else if ((p.kind === "amount" || p.kind === "free-shipping") && p.amountOffCents !== undefined) {
    cost = Math.min(cost, p.amountOffCents);
  }
  return Math.max(0, cost);
}

/** Whether the customer may get one more offer on this channel at nowMs (every cap window counted). */
export function capAllows(customer: CustomerState | undefined, channel: Channel, nowMs: number, cfg: EngineConfig): boolean {
  const cap = cfg.frequencyCaps[channel];
  if (cap.maxOffers <= 0) return false;
  return customer ? offerFits(customer, channel, nowMs, cap.maxOffers, cap.windowMs) : true;
}

/**
 * Eligibility before the policy: why a promotion may not be offered here and now, or undefined.
 * Checked in this order, the first failing one is the reason: schedule, channel, stock (the product's
 * units not yet promised, or the category's, must exceed the reserve), budget (what is left after
 * spend and outstanding reservations must cover this offer's reservation), frequency cap.
 */
export function exclusionOf(
  p: Promotion,
  channel: Channel,
  nowMs: number,
  customer: CustomerState | undefined,
  ledger: Ledger,
  cfg: EngineConfig,
  /** The cap verdict when the caller already has it (it is the same for every promotion). */
  capOk: boolean = capAllows(customer, channel, nowMs, cfg),
): ExclusionReason | undefined {
  if (nowMs < p.startsAtMs || nowMs >= p.endsAtMs) return "off-schedule";
  if (!p.channels.includes(channel)) return "wrong-channel";
  if (p.productId !== undefined && ledger.available(p.productId) <= cfg.stockReserve) return "out-of-stock";
  // Partitioned, a unit may be promised only from this partition's grant of the global stock.
  if (cfg.partitioned && p.productId !== undefined && ledger.unitsGrantedLeft(p.productId) <= 0) return "out-of-stock";
  if (p.category !== undefined && ledger.categoryAvailableUnits(p.category) <= cfg.stockReserve) return "out-of-stock";
  if (ledger.budgetLeft(p.id) < reservationCents(p, ledger)) return "budget-spent";
  if (!capOk) return "frequency-cap";
  return undefined;
}
