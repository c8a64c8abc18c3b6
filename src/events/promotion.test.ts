import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, promotionIssues, PS_ERR_EVENT, type PromotionConfig } from "./index.ts";

const base = { id: "p", name: "P", channels: ["web"], budgetCents: 100_000, maxDiscountCents: 1_000 } as const;
const percent: PromotionConfig = { ...base, channels: ["web"], kind: "percent", percentOff: 10 };
const amount: PromotionConfig = { ...base, channels: ["web"], kind: "amount", amountOffCents: 500 };

describe("promotionIssues", () => {
  it.each<[string, PromotionConfig]>([
    ["percent", percent],
    ["amount", amount],
    ["free-shipping", { ...amount, kind: "free-shipping", amountOffCents: 699 }],
    ["bundle", { ...percent, kind: "bundle", bundleQuantity: 3 }],
    ["an amount equal to the cap, the cap equal to the budget", { ...amount, amountOffCents: 1_000, budgetCents: 1_000 }],
    // The budget guard reserves each offer's own discount; a shop winding a promotion down sets a small budget.
    ["percent with a budget below its cap", { ...percent, budgetCents: 400 }],
    ["a budget of 0", { ...percent, budgetCents: 0 }],
  ])("accepts a consistent %s promotion", (_name, p) => {
    expect(promotionIssues(p)).toEqual([]);
  });

  // Terms another kind reads are ignored by the discount rule (offer.ts): the promotion would not give
  // what it says, so it is refused naming the field.
  it.each<[string, PromotionConfig, keyof PromotionConfig, RegExp]>([
    ["amount with percentOff", { ...amount, percentOff: 20 }, "percentOff", /remove percentOff/],
    ["free-shipping with percentOff", { ...amount, kind: "free-shipping", percentOff: 20 }, "percentOff", /remove percentOff/],
    ["percent with amountOffCents", { ...percent, amountOffCents: 500 }, "amountOffCents", /remove amountOffCents/],
    ["bundle with amountOffCents", { ...percent, kind: "bundle", amountOffCents: 500 }, "amountOffCents", /remove amountOffCents/],
    ["bundleQuantity on a percent promotion", { ...percent, bundleQuantity: 3 }, "bundleQuantity", /use kind bundle/],
    ["bundleQuantity on an amount promotion", { ...amount, bundleQuantity: 2 }, "bundleQuantity", /use kind bundle/],
    ["an amount above its cap", { ...amount, amountOffCents: 1_500 }, "amountOffCents", /lower amountOffCents to 1000 or raise maxDiscountCents to 1500/],
  ])("refuses %s", (_name, p, field, fix) => {
    const issues = promotionIssues(p);
    expect(issues.find((i) => i.field === field), JSON.stringify(issues)).toMatchObject({ fix: expect.stringMatching(fix) });
  });

  it("refuses at runtime a product or category no event can carry, and an amount off of 0", () => {
    for (const [promotion, field] of [
      [{ ...amount, productId: "sku 007" }, "productId"],
      [{ ...amount, productId: "x".repeat(65) }, "productId"],
      [{ ...amount, category: "" }, "category"],
      [{ ...amount, amountOffCents: 0 }, "amountOffCents"],
      [{ ...amount, kind: "free-shipping", amountOffCents: 0 }, "amountOffCents"],
    ] as const) {
      const r = decodeEvent(encodeEvent({ type: "promotion", id: "c1.p0", ts: Date.parse("2026-03-02T08:00:00Z"), promotion }), 16_384);
      expect(r).toMatchObject({ ok: false, reason: PS_ERR_EVENT.Invalid, detail: expect.stringContaining(field) });
    }
  });

  it("gates a promotion change arriving in the log by the same rules", () => {
    const bytes = encodeEvent({ type: "promotion", id: "c1.p0", ts: Date.parse("2026-03-02T08:00:00Z"), promotion: { ...amount, percentOff: 20 } });
    const r = decodeEvent(bytes, 16_384);
    expect(r).toMatchObject({ ok: false, reason: PS_ERR_EVENT.Invalid, detail: expect.stringContaining("promotion.percentOff: kind 'amount' takes amountOffCents") });
  });
});
