// The margin term of the objective (issue #14): what a purchase under each arm would earn, known at
// decision time from the contract's discount rule (src/events/offer.ts, the rule the budget guard
// reserves by). At a product decision it is exact: (price − cost)·quantity − discount. With no
// product known (a banner at arrival, a lapsed-customer send) it is the expectation over the
// categories the customer is likely to buy in (their category views, smoothed toward the catalog).
import { marginIfBoughtCents, offerApplies, offerDiscountCents, offerQuantity, type ProductTerms } from "../events/index.ts";
import type { CustomerState } from "../features/index.ts";
import type { Ledger } from "./ledger.ts";
import type { EngineConfig, Promotion } from "./types.ts";

/** The product a decision is made for. */
export type DecisionProduct = ProductTerms;

/**
 * The product of a decision point, priced from the ledger (the shop's inventory events), else from the
 * event itself with the default margin share; undefined when neither gives a price.
 */
export function productOf(productId: string, category: string | undefined, priceCents: number | undefined, ledger: Ledger, cfg: EngineConfig): DecisionProduct | undefined {
  const info = ledger.products.get(productId);
  if (info) return { productId, category: info.category, priceCents: info.priceCents, costCents: info.costCents };
  if (priceCents === undefined || category === undefined) return undefined;
  return { productId, category, priceCents, costCents: Math.round(priceCents * (1 - cfg.bandit.defaultMarginShare)) };
}

/** How much weight the catalog's category mix gets against the customer's own category views (views' worth). */
const AFFINITY_PRIOR_VIEWS = 1;

/**
 * The customer's probability of buying in each category: their category views (the tracked top
 * categories) smoothed toward the catalog's mix of products. Written into `out` (category → weight).
 */
export function categoryWeights(c: CustomerState | undefined, ledger: Ledger, out: Map<string, number>): Map<string, number> {
  out.clear();
  let products = 0;
  for (const s of ledger.catalog.values()) products += s.products;
  if (products === 0) return out;
  let views = 0;
  if (c) for (const n of c.catCounts) views += n;
  const k = AFFINITY_PRIOR_VIEWS;
  for (const [cat, s] of ledger.catalog) out.set(cat, (k * s.products) / products / (views + k));
  if (c) for (let i = 0; i < c.cats.length; i++) if (out.has(c.cats[i]!)) out.set(c.cats[i]!, out.get(c.cats[i]!)! + c.catCounts[i]! / (views + k));
  return out;
}

/** The customer's affinity for one category: its weight in categoryWeights. */
export function affinityFor(c: CustomerState | undefined, category: string, ledger: Ledger): number {
  let products = 0;
  for (const s of ledger.catalog.values()) products += s.products;
  const share = products > 0 ? (ledger.catalog.get(category)?.products ?? 0) / products : 0;
  let views = 0;
  let own = 0;
  if (c)
    for (let i = 0; i < c.cats.length; i++) {
      views += c.catCounts[i]!;
      if (c.cats[i] === category) own = c.catCounts[i]!;
    }
  return (AFFINITY_PRIOR_VIEWS * share + own) / (views + AFFINITY_PRIOR_VIEWS);
}

/**
 * The expected margin if bought under the arm (undefined: control) when the product is not known: over
 * the customer's category weights, the category's mean product (mean price and cost) bought under the
 * arm where it applies, without it where it does not (a product promotion applies to one product of its
 * category). Undefined when the ledger knows no catalog.
 */
export function expectedMargin(p: Promotion | undefined, weights: ReadonlyMap<string, number>, ledger: Ledger): number | undefined {
  if (weights.size === 0) return undefined;
  let m = 0;
  for (const [cat, w] of weights) {
    const s = ledger.catalog.get(cat);
    if (!s || w === 0) continue;
    const mean: ProductTerms = { productId: "", category: cat, priceCents: s.priceCents / s.products, costCents: s.costCents / s.products };
    const plain = mean.priceCents - mean.costCents;
    if (p === undefined) {
      m += w * plain;
      continue;
    }
    if (p.productId !== undefined) {
      const own = ledger.products.get(p.productId);
      if (!own || own.category !== cat) {
        m += w * plain;
        continue;
      }
      const onIt = marginIfBoughtCents(p, { productId: p.productId, category: cat, priceCents: own.priceCents, costCents: own.costCents });
      m += w * (onIt / s.products + (plain * (s.products - 1)) / s.products);
      continue;
    }
    m += w * (offerApplies(p, mean) ? marginIfBoughtCents(p, mean) : plain);
  }
  return m;
}

/**
 * Units of its product one offer of a product promotion promises (what it reserves from stock): a
 * bundle's purchase takes all of its units, so reserving one let open bundles promise more than the
 * stock held. 0 for a promotion of no one product.
 */
export function unitsPromised(p: Promotion): number {
  return p.productId === undefined ? 0 : offerQuantity(p, { productId: p.productId, category: p.category ?? "" });
}

/**
 * The most one offer of the promotion can cost: what is reserved against its budget. For a known
 * product, exactly its discount on that product (at the bundle's quantity); otherwise the largest
 * discount it can give (its own product's, or the fixed amount, or its maxDiscountCents).
 */
export function reservationCents(p: Promotion, product: DecisionProduct | undefined, ledger: Ledger): number {
  if (product) return offerDiscountCents(p, product, offerQuantity(p, product));
  if (p.productId !== undefined) {
    const info = ledger.products.get(p.productId);
    if (info) {
      const t = { productId: p.productId, category: info.category, priceCents: info.priceCents };
      return offerDiscountCents(p, t, offerQuantity(p, t));
    }
  }
  if ((p.kind === "amount" || p.kind === "free-shipping") && p.amountOffCents !== undefined) return Math.max(0, Math.min(p.maxDiscountCents, p.amountOffCents));
  return p.maxDiscountCents;
}
