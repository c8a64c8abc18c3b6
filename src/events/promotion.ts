// A promotion: the one definition both doors use. The configuration's `promotions` list and a
// promotion change arriving as an event in the log (`events.promotion.<partition>`) are checked by
// the same schema and the same cross-field rules (`promotionIssues`), so whatever start-up refuses,
// decode refuses too (issue 15: the runtime path once accepted a `percent` promotion without
// `percentOff`, which then reserved 0 cents per offer).
import { FormatRegistry, Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";

// TypeBox ships no string formats; this is the one we use (the configuration's times too).
if (!FormatRegistry.Has("date-time"))
  FormatRegistry.Set("date-time", (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));

/** How events name a product and a category (schema.ts uses these); here so a promotion names them alike. */
export const PRODUCT_ID_PATTERN = "^[A-Za-z0-9._-]+$";
export const PRODUCT_ID_MAX_LENGTH = 64;
export const CATEGORY_MAX_LENGTH = 64;

const Channel = Type.Union([Type.Literal("web"), Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")], {
  description: "one of web, email, sms, push",
});

export const PromotionSchema = Type.Object(
  {
    id: Type.String({
      pattern: "^[a-z0-9][a-z0-9-]{0,63}$",
      description: "lower-case letters, digits and -, not 'control'",
    }),
    name: Type.String({ description: "a label for people" }),
    kind: Type.Union([Type.Literal("percent"), Type.Literal("amount"), Type.Literal("free-shipping"), Type.Literal("bundle")], {
      description: "one of percent, amount, free-shipping, bundle",
    }),
    percentOff: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100, description: "percent off, 0 < x ≤ 100" })),
    // Not 0: such a promotion gives nothing and reserves nothing, so the budget guard never binds (like a
    // percent one without percentOff, issue 15), even at a budget of 0.
    amountOffCents: Type.Optional(Type.Integer({ minimum: 1, description: "amount off in cents, at least 1" })),
    // As events carry them (schema.ts): a product or category no event can name was never offered.
    productId: Type.Optional(
      Type.String({ minLength: 1, maxLength: PRODUCT_ID_MAX_LENGTH, pattern: PRODUCT_ID_PATTERN, description: `the product (sku) the promotion applies to, as events name it: letters, digits, ., _ or -, at most ${PRODUCT_ID_MAX_LENGTH}` }),
    ),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: CATEGORY_MAX_LENGTH, description: `the category the promotion applies to, as events name it: 1…${CATEGORY_MAX_LENGTH} characters` })),
    channels: Type.Array(Channel, { minItems: 1, description: "a non-empty list of web, email, sms, push" }),
    budgetCents: Type.Integer({ minimum: 0, description: "the promotion's total discount budget in cents" }),
    maxDiscountCents: Type.Integer({ minimum: 1, description: "the most one redemption may cost, in cents; reserved per offer" }),
    bundleQuantity: Type.Optional(Type.Integer({ minimum: 2, maximum: 100, description: "units a bundle sells together, 2…100 (default 2)" })),
    startsAt: Type.Optional(Type.String({ format: "date-time", description: "an ISO-8601 time" })),
    endsAt: Type.Optional(Type.String({ format: "date-time", description: "an ISO-8601 time" })),
  },
  { additionalProperties: false },
);
export type PromotionConfig = Static<typeof PromotionSchema>;

/** The arm id that means "no promotion". */
export const RESERVED_PROMOTION_ID = "control";

/** One thing wrong with a promotion that its schema alone cannot see: the field, the problem, the fix. */
export interface PromotionIssue {
  field: keyof PromotionConfig;
  problem: string;
  fix: string;
}

/** The rules across fields of one (schema-valid) promotion. Empty when it is fine. */
export function promotionIssues(p: PromotionConfig): PromotionIssue[] {
  const issues: PromotionIssue[] = [];
  if (p.id === RESERVED_PROMOTION_ID) issues.push({ field: "id", problem: "'control' is reserved for no promotion", fix: "choose another id" });
  if ((p.kind === "percent" || p.kind === "bundle") && p.percentOff === undefined)
    issues.push({ field: "percentOff", problem: `kind '${p.kind}' needs percentOff`, fix: "set percentOff, e.g. 10" });
  if ((p.kind === "amount" || p.kind === "free-shipping") && p.amountOffCents === undefined)
    issues.push({ field: "amountOffCents", problem: `kind '${p.kind}' needs amountOffCents`, fix: "set amountOffCents, e.g. 500" });
  // Which terms each kind's discount reads (src/events/offer.ts offerDiscountCents, offerQuantity): a term
  // of another kind would be ignored, so a promotion carrying one does not give what it says.
  const byPercent = p.kind === "percent" || p.kind === "bundle";
  if (byPercent && p.amountOffCents !== undefined)
    issues.push({ field: "amountOffCents", problem: `kind '${p.kind}' takes percentOff, not amountOffCents (it would be ignored)`, fix: "remove amountOffCents, or use kind amount for a fixed amount off" });
  if (!byPercent && p.percentOff !== undefined)
    issues.push({ field: "percentOff", problem: `kind '${p.kind}' takes amountOffCents, not percentOff (it would be ignored)`, fix: "remove percentOff, or use kind percent for a percentage off" });
  if (p.kind !== "bundle" && p.bundleQuantity !== undefined)
    issues.push({ field: "bundleQuantity", problem: `kind '${p.kind}' sells one unit (bundleQuantity would be ignored)`, fix: "remove bundleQuantity, or use kind bundle" });
  // A discount is capped at maxDiscountCents: a larger fixed amount would never be given in full.
  if (!byPercent && p.amountOffCents !== undefined && p.amountOffCents > p.maxDiscountCents)
    issues.push({
      field: "amountOffCents",
      problem: `${p.amountOffCents} is more than maxDiscountCents (${p.maxDiscountCents}), which caps each redemption`,
      fix: `lower amountOffCents to ${p.maxDiscountCents} or raise maxDiscountCents to ${p.amountOffCents}`,
    });
  // A budget below maxDiscountCents is allowed: the budget guard reserves each offer's own discount
  // (a percentage of a cheap product's price may fit where the cap would not), and a shop winding a
  // promotion down sets a small budget, or 0, at runtime.
  if (p.productId !== undefined && p.category !== undefined) issues.push({ field: "category", problem: "both productId and category are set", fix: "keep one of them" });
  if (p.startsAt && p.endsAt && Date.parse(p.startsAt) >= Date.parse(p.endsAt))
    issues.push({ field: "endsAt", problem: "endsAt is not after startsAt", fix: "make endsAt later than startsAt" });
  return issues;
}

/** Issues as one line, for a dead letter's detail or a reply. */
export function describeIssues(issues: readonly PromotionIssue[], prefix = "promotion"): string {
  return issues.map((i) => `${prefix}.${i.field}: ${i.problem}; fix: ${i.fix}`).join("; ");
}

/**
 * Every way a value is not a promotion by the schema, as the configuration reports its promotions
 * (src/config/load.ts): the field, what is wrong, and the fix its description gives. One per field;
 * empty when the schema holds (then promotionIssues has the rules across fields).
 */
export function promotionSchemaIssues(value: unknown): { field: string; problem: string; fix: string }[] {
  const out: { field: string; problem: string; fix: string }[] = [];
  for (const e of Value.Errors(PromotionSchema, value)) {
    const field = e.path.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".") || "(the promotion)";
    if (out.some((i) => i.field === field)) continue;
    const desc = (e.schema as TSchema & { description?: string }).description;
    if (e.type === ValueErrorType.ObjectAdditionalProperties) out.push({ field, problem: "unknown key", fix: "remove it or check its spelling" });
    else if (e.type === ValueErrorType.ObjectRequiredProperty) out.push({ field, problem: "missing", fix: `set ${field} to ${desc ?? "a value"}` });
    else out.push({ field, problem: `${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}, got ${JSON.stringify(e.value)}`, fix: `set ${field} to ${desc ?? "a valid value"}` });
  }
  return out;
}
