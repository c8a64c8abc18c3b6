import type { Channel, ExclusionReason } from "../events/index.ts";
import { offersWithin, type CustomerState } from "../features/index.ts";
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

/** Eligibility before the policy: why a promotion may not be offered here and now, or undefined. */
export function exclusionOf(
  p: Promotion,
  channel: Channel,
  nowMs: number,
  customer: CustomerState | undefined,
  ledger: Ledger,
  cfg: EngineConfig,
): ExclusionReason | undefined {
  if (nowMs < p.startsAtMs || nowMs >= p.endsAtMs) return "off-schedule";
  if (!p.channels.includes(channel)) return "wrong-channel";
  if (p.productId !== undefined && ledger.available(p.productId) <= cfg.stockReserve) return "out-of-stock";
  if (p.category !== undefined && ledger.categoryAvailableUnits(p.category) <= cfg.stockReserve) return "out-of-stock";
  if (ledger.budgetLeft(p.id) < reservationCents(p, ledger)) return "budget-spent";
  const cap = cfg.frequencyCaps[channel];
  if (customer && offersWithin(customer, channel, cap.windowMs, nowMs) >= cap.maxOffers) return "frequency-cap";
  if (!customer && cap.maxOffers === 0) return "frequency-cap";
  return undefined;
}
