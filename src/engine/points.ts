// Where decisions are made (issue #14): which events are decision points, and for which product.
//   visit         a shopper arrives (config decisionPoints.visit): a banner, no product known;
//   product-view  a shopper looks at a product: the first view (or the minViews-th without a purchase)
//                 of a product in the visit, at most maxPerVisit per visit and one per product;
//   cart          a product is added to the cart (decisionPoints.cart; a removal never is), or a send
//                 for a cart left behind that carries the cart's lines (decided for its most valuable product);
//   send          a scheduled email/sms/push with no product (a lapsed customer).
// A visit is the events of one session id, or (without one) the events until a gap of visitGapSec;
// a customer's few most recent visits are remembered, so two open at once (their events interleaved)
// each keep their own count.
import type { CustomerEvent, DecisionPoint } from "../events/index.ts";
import { beginVisit, clearVisitViews, noteProductView, type CustomerState, type VisitState } from "../features/index.ts";
import type { Ledger } from "./ledger.ts";
import { productOf, type DecisionProduct } from "./margin.ts";
import type { EngineConfig } from "./types.ts";

/**
 * Product decisions a visit remembers (the newest; at least maxPerVisit, so the view trigger's count
 * is exact). Cart adds have no per-visit limit, and a session adding product after product grew the
 * list without bound, and its O(n) lookup at every event with it; a product carted again after 32
 * others gets a new decision.
 */
const DECIDED_REMEMBERED = 32;

function noteDecided(visit: VisitState, productId: string, cfg: EngineConfig): void {
  visit.decided.push(productId);
  if (visit.decided.length > Math.max(DECIDED_REMEMBERED, cfg.decisionPoints.productView.maxPerVisit)) visit.decided.shift();
}

export interface PointOf {
  point: DecisionPoint;
  product?: DecisionProduct | undefined;
}

/**
 * Follows the customer's visit through the event (call it for every customer event, before the event
 * is observed) and says whether the event is a decision point. Records the product decision in the
 * visit, so a replay of the same events decides at the same ones.
 */
export function decisionPointOf(c: CustomerState, ev: CustomerEvent, ledger: Ledger, cfg: EngineConfig): PointOf | undefined {
  const dp = cfg.decisionPoints;
  const visit = beginVisit(c, ev, dp.visitGapMs);
  switch (ev.type) {
    case "visit":
      return dp.visit ? { point: "visit" } : undefined;
    case "send": {
      const lines = ev.items;
      if (lines && lines.length > 0) {
        let top = lines[0]!;
        for (const l of lines) if (l.priceCents * l.quantity > top.priceCents * top.quantity) top = l;
        const product = productOf(top.productId, top.category, top.priceCents, ledger, cfg);
        return { point: "cart", product };
      }
      return { point: "send" };
    }
    case "view": {
      if (ev.productId === undefined) return undefined;
      const views = noteProductView(visit, ev.productId);
      const pv = dp.productView;
      if (!pv.enabled || views < pv.minViews || visit.decided.length >= pv.maxPerVisit || visit.decided.includes(ev.productId)) return undefined;
      const product = productOf(ev.productId, ev.category, ev.priceCents, ledger, cfg);
      if (!product) return undefined;
      noteDecided(visit, ev.productId, cfg);
      return { point: "product-view", product };
    }
    case "cart": {
      // Taking a product out of the cart is no moment to offer one (and must not use up the visit's
      // decision for that product).
      if (ev.action === "remove" || !dp.cart || visit.decided.includes(ev.productId)) return undefined;
      const product = productOf(ev.productId, ev.category, ev.priceCents, ledger, cfg);
      if (!product) return undefined;
      noteDecided(visit, ev.productId, cfg);
      return { point: "cart", product };
    }
    case "purchase":
      clearVisitViews(visit);
      return undefined;
    default:
      return undefined;
  }
}
