// What an offer is worth, by one rule that the engine (its budget guard, its margin term) and the
// shop (the simulator's checkout) share: whether a promotion applies to a product, how many units a
// purchase under it takes, the discount it gives, and the margin left if the shopper buys. It is part
// of the contract: a shop honouring our decisions must compute the discount this way (issue #14).
// Structural types only, so the contract still imports nothing of ours.

/** The terms of a promotion that decide its discount. */
export interface OfferTerms {
  kind: "percent" | "amount" | "free-shipping" | "bundle";
  percentOff?: number | undefined;
  amountOffCents?: number | undefined;
  productId?: string | undefined;
  category?: string | undefined;
  maxDiscountCents: number;
  /** Units a bundle sells together (default 2). */
  bundleQuantity?: number | undefined;
}

/** A product as the offer rule needs it. */
export interface ProductTerms {
  productId: string;
  category: string;
  priceCents: number;
  costCents: number;
}

export const DEFAULT_BUNDLE_QUANTITY = 2;

/** Whether the promotion applies to the product: its product, its category, or (neither set) everything. */
export function offerApplies(p: OfferTerms, product: { productId: string; category: string }): boolean {
  if (p.productId !== undefined) return p.productId === product.productId;
  if (p.category !== undefined) return p.category === product.category;
  return true;
}

/** Units one purchase of the product takes under the promotion (undefined: no promotion). */
export function offerQuantity(p: OfferTerms | undefined, product: { productId: string; category: string }): number {
  return p !== undefined && p.kind === "bundle" && offerApplies(p, product) ? (p.bundleQuantity ?? DEFAULT_BUNDLE_QUANTITY) : 1;
}

/**
 * The discount (cents) the promotion gives on `quantity` units of the product: 0 when it does not
 * apply; a percentage of the line (percent, bundle, rounded to the cent) or the fixed amount (amount,
 * free-shipping); never more than the promotion's `maxDiscountCents`, nor than `capCents` (what the
 * decision reserved, when given).
 */
export function offerDiscountCents(p: OfferTerms, product: { productId: string; category: string; priceCents: number }, quantity: number, capCents?: number): number {
  if (!offerApplies(p, product)) return 0;
  const d = p.kind === "percent" || p.kind === "bundle" ? Math.round((product.priceCents * quantity * (p.percentOff ?? 0)) / 100) : (p.amountOffCents ?? 0);
  const cap = capCents === undefined ? p.maxDiscountCents : Math.min(capCents, p.maxDiscountCents);
  return Math.max(0, Math.min(d, cap));
}

/** The margin (cents) if the shopper buys the product under the promotion (undefined: no promotion). */
export function marginIfBoughtCents(p: OfferTerms | undefined, product: ProductTerms): number {
  const q = offerQuantity(p, product);
  const d = p === undefined ? 0 : offerDiscountCents(p, product, q);
  return (product.priceCents - product.costCents) * q - d;
}
