import { offerApplies, offerQuantity, type Channel, type ExclusionReason } from "../events/index.ts";
import { offerFits, type CustomerState } from "../features/index.ts";
import type { Ledger } from "./ledger.ts";
import { reservationCents, unitsPromised, type DecisionProduct } from "./margin.ts";
import type { EngineConfig, Promotion } from "./types.ts";

/** Whether the customer may get one more offer on this channel at nowMs (every cap window counted). */
export function capAllows(customer: CustomerState | undefined, channel: Channel, nowMs: number, cfg: EngineConfig): boolean {
  const cap = cfg.frequencyCaps[channel];
  if (cap.maxOffers <= 0) return false;
  return customer ? offerFits(customer, channel, nowMs, cap.maxOffers, cap.windowMs) : true;
}

/**
 * Eligibility before the policy: why a promotion may not be offered here and now, or undefined.
 * Checked in this order, the first failing one is the reason: schedule, channel, applicability (at a
 * decision for a product, a promotion that does not apply to it is not offered: it could not change
 * the purchase, issue #14), stock (the promotion's product's units not yet promised must cover its
 * offer's units, a bundle's all, above the reserve; its category's must exceed the reserve; at a
 * decision for a product, that product's units must cover the purchase),
 * budget (what is left after spend and outstanding reservations must cover this offer's reservation),
 * frequency cap. The policy adds "no-margin" for an offer whose discount takes all the margin.
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
  product?: DecisionProduct,
): ExclusionReason | undefined {
  return staticExclusionOf(p, channel, nowMs, product) ?? dynamicExclusionOf(p, ledger, cfg, capOk, product, reservationCents(p, product, ledger), stockAt(ledger, product));
}

/**
 * The guards that depend only on the promotion, the time and where the decision is made (schedule,
 * channel, applicability): the same for every decision at one (channel, product) until a promotion
 * changes or the time crosses a promotion's start or end, so decide() reuses them (eligibility.ts).
 */
export function staticExclusionOf(p: Promotion, channel: Channel, nowMs: number, product: DecisionProduct | undefined): ExclusionReason | undefined {
  if (nowMs < p.startsAtMs || nowMs >= p.endsAtMs) return "off-schedule";
  if (!p.channels.includes(channel)) return "wrong-channel";
  if (product && !offerApplies(p, product)) return "not-applicable";
  return undefined;
}

/**
 * What the stock guards read of the decision's product, the same for every promotion: the ledger does
 * not change while a decision's guards run, so decide() reads it once, not once per candidate.
 */
export interface ProductStock {
  /** Units of the product not promised, when the ledger knows the product. */
  units: number | undefined;
  /** Units of the product's category not promised (with a product). */
  categoryUnits: number;
}

export function stockAt(ledger: Ledger, product: DecisionProduct | undefined): ProductStock {
  if (!product) return { units: undefined, categoryUnits: 0 };
  return { units: ledger.products.has(product.productId) ? ledger.available(product.productId) : undefined, categoryUnits: ledger.categoryAvailableUnits(product.category) };
}

/**
 * The guards after the static ones, which move with every offer and sale: stock (`stock`: stockAt of
 * this ledger and product), budget (against `reservedCents`, the offer's reservationCents), frequency
 * cap (`capOk`, the same for every promotion).
 */
export function dynamicExclusionOf(p: Promotion, ledger: Ledger, cfg: EngineConfig, capOk: boolean, product: DecisionProduct | undefined, reservedCents: number, stock: ProductStock): ExclusionReason | undefined {
  if (p.productId !== undefined) {
    // The offer promises its units (a bundle's all of them) above the reserve.
    const units = unitsPromised(p);
    if (ledger.available(p.productId) < cfg.stockReserve + units) return "out-of-stock";
    // Partitioned, units may be promised only from this partition's grant of the global stock.
    if (cfg.partitioned && ledger.unitsGrantedLeft(p.productId) < units) return "out-of-stock";
  }
  if (p.category !== undefined && (product && p.category === product.category ? stock.categoryUnits : ledger.categoryAvailableUnits(p.category)) <= cfg.stockReserve) return "out-of-stock";
  if (product && stock.units !== undefined && stock.units < cfg.stockReserve + offerQuantity(p, product)) return "out-of-stock";
  if (ledger.budgetLeft(p.id) < reservedCents) return "budget-spent";
  // Partitioned, the partition's budget is its grants, given under the budget as it then stood: one
  // lowered at runtime (to 0, to stop the promotion) bound nothing until they were spent. What this
  // partition used is part of what all used, so this never refuses an offer the budget allows.
  if (cfg.partitioned && p.budgetCents - ledger.budgetUsed(p.id) < reservedCents) return "budget-spent";
  if (!capOk) return "frequency-cap";
  return undefined;
}
