// The shop's own rule at a decision point (issue 23): which of the decision's arms it takes. The rule
// is configuration (policy.baseline, src/config/baseline.ts); here it meets the decision: its channel,
// the kind of decision point, the views of its product in the visit, and the arms the guards left.
import type { BaselineRule } from "../config/index.ts";
import { productViewsInVisit } from "../features/index.ts";
import type { DecisionWork } from "./scratch.ts";
import { CONTROL } from "./types.ts";

/**
 * The index in w's arms (control last) of the rule's choice: its channel's offer when the rule's
 * condition holds and the offer is eligible here, else control. A web rule with `atView: n` offers at
 * a product view that is the n-th (or later) view of that product in the visit without a purchase; at
 * any other decision point (a visit, a cart) it offers nothing. A rule's promotion that a guard
 * excluded (out of stock, budget spent, not applicable to the product…) is not offered: the shop's
 * rule meets the same guards as the engine, so both are compared on what could be offered.
 */
export function baselineIndex(rule: BaselineRule | undefined, w: DecisionWork): number {
  const controlIndex = w.ids.length - 1;
  const r = rule?.[w.channel];
  if (!r || r.offer === CONTROL) return controlIndex;
  if (r.atView !== undefined) {
    if (w.point !== "product-view" || !w.product) return controlIndex;
    if (productViewsInVisit(w.customer, w.product.productId) < r.atView) return controlIndex;
  }
  const j = w.ids.indexOf(r.offer);
  return j >= 0 ? j : controlIndex;
}
