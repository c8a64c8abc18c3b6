// The event and decision contract. TypeBox gives us both the runtime check (compiled) and the
// JSON Schema that /api/schema/*.json serves to other teams, from one definition.
import { Type, type Static } from "@sinclair/typebox";
import { CATEGORY_MAX_LENGTH, PRODUCT_ID_MAX_LENGTH, PRODUCT_ID_PATTERN, PromotionSchema } from "./promotion.ts";

/** The id patterns, exported for mappers that must say which id of their input is refused (segment.ts). */
export const ID_PATTERN = "^[A-Za-z0-9._:@-]+$";
export const ID_MAX_LENGTH = 128;
export { PRODUCT_ID_PATTERN, PRODUCT_ID_MAX_LENGTH };
export const CUSTOMER_ID_MAX_LENGTH = 128;
const Id = Type.String({ minLength: 1, maxLength: ID_MAX_LENGTH, pattern: ID_PATTERN, description: "unique id" });
const CustomerId = Type.String({ minLength: 1, maxLength: CUSTOMER_ID_MAX_LENGTH, description: "the shopper's id" });
const ProductId = Type.String({ minLength: 1, maxLength: PRODUCT_ID_MAX_LENGTH, pattern: PRODUCT_ID_PATTERN, description: "sku" });
const Category = Type.String({ minLength: 1, maxLength: CATEGORY_MAX_LENGTH });
/** Milliseconds since the epoch, event time, between 2000-01-01 and 2100-01-01. */
const Ts = Type.Integer({ minimum: 946_684_800_000, maximum: 4_102_444_800_000, description: "event time, ms since epoch" });
const Cents = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
const Qty = Type.Integer({ minimum: 1, maximum: 10_000 });
const SessionId = Type.String({ minLength: 1, maxLength: 128 });

export const CHANNELS = ["web", "email", "sms", "push"] as const;
export const ChannelSchema = Type.Union(CHANNELS.map((c) => Type.Literal(c)));
export type Channel = (typeof CHANNELS)[number];

const customerBase = { id: Id, ts: Ts, customerId: CustomerId, sessionId: Type.Optional(SessionId) };
/**
 * On the event types that can be decision points: the sender waits for this event's decision
 * (POST /api/decide, request/reply on decide.<channel>), so the processor stores its answer, the
 * decision or why there is none, in the KV bucket PS_ANSWERS (issue 22). In the event itself, so that
 * a replay answers the same way.
 */
const decidable = { decide: Type.Optional(Type.Boolean({ description: "the sender waits for this event's decision (set by POST /api/decide and decide.<channel>)" })) };

export const ViewEvent = Type.Object(
  { type: Type.Literal("view"), ...customerBase, productId: Type.Optional(ProductId), category: Type.Optional(Category), priceCents: Type.Optional(Cents), ...decidable },
  { additionalProperties: false },
);
export const ClickEvent = Type.Object(
  { type: Type.Literal("click"), ...customerBase, productId: Type.Optional(ProductId), category: Type.Optional(Category) },
  { additionalProperties: false },
);
/**
 * A product added to the cart, or (action "remove") taken out of it: a shop's tracking has both
 * (Segment's Product Added / Product Removed, issue 22). Absent `action` is an add, as before.
 */
export const CartEvent = Type.Object(
  {
    type: Type.Literal("cart"),
    ...customerBase,
    productId: ProductId,
    category: Type.Optional(Category),
    quantity: Qty,
    priceCents: Cents,
    action: Type.Optional(
      Type.Union([Type.Literal("add"), Type.Literal("remove")], {
        description: "add (the default) or remove: a removal takes the newest open cart line of the same value (price × quantity) out of the cart; it is never a decision point",
      }),
    ),
    ...decidable,
  },
  { additionalProperties: false },
);
export const PurchaseItem = Type.Object(
  { productId: ProductId, category: Type.Optional(Category), quantity: Qty, priceCents: Cents },
  { additionalProperties: false },
);
export const PurchaseEvent = Type.Object(
  {
    type: Type.Literal("purchase"),
    ...customerBase,
    totalCents: Cents,
    items: Type.Optional(Type.Array(PurchaseItem, { maxItems: 100 })),
    /** Discount actually granted, when a promotion was redeemed. */
    discountCents: Type.Optional(Cents),
    promotionId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    decisionId: Type.Optional(Id),
  },
  { additionalProperties: false },
);
/** A shopper arrives on the site: a decision point on the web channel. */
export const VisitEvent = Type.Object(
  { type: Type.Literal("visit"), ...customerBase, channel: Type.Literal("web"), ...decidable },
  { additionalProperties: false },
);
/** A scheduled message opportunity (cart left behind, shopper away): a decision point on email/sms/push. */
export const SendEvent = Type.Object(
  {
    type: Type.Literal("send"),
    ...customerBase,
    channel: Type.Union([Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")]),
    reason: Type.Optional(Type.String({ maxLength: 64 })),
    /** The cart's lines, for a cart left behind: the decision is then made for its most valuable product. */
    items: Type.Optional(Type.Array(PurchaseItem, { maxItems: 100 })),
    ...decidable,
  },
  { additionalProperties: false },
);
/** Stock and price of one product, as the shop knows it now. */
export const InventoryEvent = Type.Object(
  { type: Type.Literal("inventory"), id: Id, ts: Ts, productId: ProductId, category: Category, stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), priceCents: Cents, costCents: Cents },
  { additionalProperties: false },
);

// Partitioned processors (issue #8) route internal events through each partition's own subjects, so
// that everything a partition's engine depends on is in its stream, in order, and replays exactly:
/** A product's stock, price and cost, copied into every partition (the shop's inventory event). */
export const StockEvent = Type.Object(
  { type: Type.Literal("stock"), id: Id, ts: Ts, productId: ProductId, category: Category, stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), priceCents: Cents, costCents: Cents },
  { additionalProperties: false },
);
/** A grant from the global stock/budget ledger in KV to one partition: the cumulative total granted. */
export const AllowanceEvent = Type.Object(
  {
    type: Type.Literal("allowance"),
    id: Id,
    ts: Ts,
    resource: Type.Union([Type.Literal("budget"), Type.Literal("units")]),
    /** A promotion id (budget) or a product id (units). */
    key: Type.String({ minLength: 1, maxLength: 64 }),
    total: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
  },
  { additionalProperties: false },
);
const ShareWeightsSchema = Type.Object(
  { dq: Type.Array(Type.Number(), { maxItems: 256 }), deta: Type.Array(Type.Number(), { maxItems: 256 }), t: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);
/** What another partition has learned: its own posterior counts, [successes, failures, time] per arm and segment. */
export const SyncEvent = Type.Object(
  {
    type: Type.Literal("sync"),
    id: Id,
    ts: Ts,
    from: Type.Integer({ minimum: 0, maximum: 1023 }),
    arms: Type.Record(Type.String(), Type.Record(Type.String(), Type.Tuple([Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 }), Type.Number({ minimum: 0 })]))),
    /** Safe start (issue 23): the partition's apprentice evidence (doubly robust sums), and the mode change its apprenticeship began with. */
    safe: Type.Optional(
      Type.Object(
        {
          since: Type.String({ maxLength: 160 }),
          sums: Type.Object({ n: Type.Integer({ minimum: 0 }), sum: Type.Number(), sumSq: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * The logistic model's learning beyond its prior (natural parameters added): baseline and per arm;
     * since issue 21 also the running sums of the contexts it learned (the centre its arms' context terms
     * are expressed around) and the evidence that the context terms pay (bandit/evidence.ts).
     */
    logistic: Type.Optional(
      Type.Object(
        {
          baseline: ShareWeightsSchema,
          arms: Type.Record(Type.String(), ShareWeightsSchema),
          centre: Type.Optional(
            Type.Object({ w: Type.Number({ minimum: 0 }), wx: Type.Array(Type.Number(), { maxItems: 256 }), t: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
          ),
          evidence: Type.Optional(
            Type.Object({ n: Type.Number({ minimum: 0 }), s1: Type.Number(), s2: Type.Number({ minimum: 0 }), t: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * A promotion added or changed at runtime, in the log with the shop's events so a replay applies it at
 * the same place (issue 15). `promo.control` publishes one per partition; its time is when it was asked
 * for, and moves no watermark.
 */
export const PromotionEvent = Type.Object(
  { type: Type.Literal("promotion"), id: Id, ts: Ts, promotion: PromotionSchema },
  { additionalProperties: false },
);

/** How decisions are served (issue 23): the learner alone, the shop's rule while the learner learns (apprentice), or the learner held within a bound of the rule (conservative). */
export const POLICY_MODES = ["learner", "apprentice", "conservative"] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];
const PolicyModeSchema = Type.Union(POLICY_MODES.map((m) => Type.Literal(m)), { description: "learner, apprentice or conservative" });

/**
 * A change of the policy's mode, in the log with the shop's events so a replay changes it at the same
 * place (issue 23): an apprentice engine's graduation, or a person's change through promo.control. One
 * per partition like a promotion change; its time is when it was asked for, and moves no watermark.
 */
export const ModeEvent = Type.Object(
  {
    type: Type.Literal("mode"),
    id: Id,
    ts: Ts,
    mode: PolicyModeSchema,
    reason: Type.Union([Type.Literal("graduated"), Type.Literal("manual")], { description: "graduated (the engine's evidence) or manual (promo.control)" }),
    /**
     * At graduation: the apprenticeship that earned it (the change that began it, "" for the
     * configuration's; as sync events carry it). It applies only in that apprenticeship: a person's
     * change stored before it, on one partition and not on another, would otherwise leave them in
     * different modes. (A graduation logged without it applies to any apprenticeship, as before.)
     */
    since: Type.Optional(Type.String({ maxLength: 160 })),
    /** At graduation: the learner's margin (cents; conversions with bandit.reward conversion) per decision minus the rule's (doubly robust) over the closed decisions it rests on. */
    evidence: Type.Optional(
      Type.Object(
        { decisions: Type.Integer({ minimum: 0 }), mean: Type.Number(), lo: Type.Number(), hi: Type.Number() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The JSON Schema draft of the schemas served at /api/schema/*.json. */
const JSON_SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#";

export const EventSchema = Type.Union([ViewEvent, ClickEvent, CartEvent, PurchaseEvent, VisitEvent, SendEvent, InventoryEvent, StockEvent, AllowanceEvent, SyncEvent, PromotionEvent, ModeEvent], {
  // The draft its keywords are written in (TypeBox's tuples are draft-07's `items` arrays, no schema under
  // 2020-12, the default of a validator told nothing).
  $schema: JSON_SCHEMA_DRAFT,
  $id: "https://promo-stream.local/schema/event.json",
  title: "promo-stream event",
});
export type ShopEvent = Static<typeof EventSchema>;
export type EventType = ShopEvent["type"];
export const EVENT_TYPES: readonly EventType[] = ["view", "click", "cart", "purchase", "visit", "send", "inventory", "stock", "allowance", "sync", "promotion", "mode"];
/** Events a partitioned processor publishes to its partitions itself (never a shop's). */
export const INTERNAL_EVENT_TYPES: readonly EventType[] = ["stock", "allowance", "sync"];
export type CustomerEvent = Exclude<ShopEvent, { type: "inventory" | "stock" | "allowance" | "sync" | "promotion" | "mode" }>;
export type InternalEvent = Extract<ShopEvent, { type: "stock" | "allowance" | "sync" }>;
export type DecisionPointEvent = Extract<ShopEvent, { type: "visit" | "send" }>;

export const EXCLUSION_REASONS = ["out-of-stock", "budget-spent", "frequency-cap", "off-schedule", "wrong-channel", "not-applicable", "no-margin"] as const;
export const ExclusionReason = Type.Union(EXCLUSION_REASONS.map((r) => Type.Literal(r)), {
  description:
    "why a promotion was not a candidate: out of stock, budget spent, frequency cap, off schedule, wrong channel, not applicable (it does not apply to the product the decision is for), no margin (its discount takes all the margin of that product)",
});
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** Where a decision is made: a visit (no product known), a product view, a cart (a cart event, or a send for a cart left behind), a send with no product. */
export const DECISION_POINTS = ["visit", "product-view", "cart", "send"] as const;
export type DecisionPoint = (typeof DECISION_POINTS)[number];

export const DecisionSchema = Type.Object(
  {
    id: Type.String({ description: "decision id, derived from the triggering event id" }),
    ts: Ts,
    customerId: CustomerId,
    channel: ChannelSchema,
    promotionId: Type.String({ description: "the chosen promotion, or 'control' for no promotion" }),
    holdout: Type.Boolean({ description: "true when control came from the random holdout draw (used for uplift)" }),
    segment: Type.String(),
    propensity: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: "P(policy picks this arm | context)" }),
    eventId: Id,
    point: Type.Union(DECISION_POINTS.map((p) => Type.Literal(p)), {
      description: "where the decision was made: visit (no product known), product-view, cart (a cart, or a send for a cart left behind), send (no product known)",
    }),
    productId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$", description: "the product the decision was made for (absent when none was known)" })),
    expiresAt: Ts,
    reason: Type.Optional(Type.Literal("nothing-eligible")),
    policy: Type.Optional(
      Type.Object(
        {
          mode: PolicyModeSchema,
          served: Type.Union([Type.Literal("learner"), Type.Literal("baseline"), Type.Literal("explore")], {
            description: "who served it: the learner, the shop's rule (apprentice, or the conservative bound's fallback), or the apprentice's random exploration",
          }),
          baseline: Type.String({ description: "the arm the shop's rule (policy.baseline) takes at this decision point" }),
        },
        { additionalProperties: false, description: "safe start (policy.mode apprentice or conservative): who served the decision and what the shop's rule would have" },
      ),
    ),
    offer: Type.Optional(
      Type.Object({
        kind: Type.String(),
        percentOff: Type.Optional(Type.Number()),
        amountOffCents: Type.Optional(Cents),
        productId: Type.Optional(ProductId),
        category: Type.Optional(Category),
        maxDiscountCents: Cents,
      }),
    ),
    explanation: Type.Object({
      candidates: Type.Array(
        Type.Object({
          promotionId: Type.String(),
          score: Type.Number({ description: "the sampled score: margin if bought (cents) × the sampled conversion probability" }),
          marginCents: Type.Optional(Type.Number({ description: "the margin if bought under this arm, in cents (expected over the customer's categories when no product is known)" })),
        }),
      ),
      excluded: Type.Array(Type.Object({ promotionId: Type.String(), reason: ExclusionReason })),
      candidatesOmitted: Type.Optional(
        Type.Integer({ minimum: 1, description: "candidates left out of this list (not the chosen one) so the decision fits the stream's message limit (streams.decisions.maxMsgBytes)" }),
      ),
      excludedOmitted: Type.Optional(Type.Integer({ minimum: 1, description: "exclusions left out of this list so the decision fits the stream's message limit (streams.decisions.maxMsgBytes)" })),
    }),
  },
  { $schema: JSON_SCHEMA_DRAFT, $id: "https://promo-stream.local/schema/decision.json", title: "promo-stream decision", additionalProperties: false },
);
export type Decision = Static<typeof DecisionSchema>;

/**
 * What became of a decision, published on `outcomes.<channel>` (stream OUTCOMES, msg id `o-<decision id>`)
 * when it closes: by a purchase that redeemed its offer, by a purchase credited to it without (control, or
 * an offer not used), by the end of its attribution window, or early to bound memory (overflow: its
 * outcome is unknown and nothing was learned from it).
 */
export const OUTCOME_CLOSES = ["redeemed", "purchased", "expired", "overflow"] as const;
export const OutcomeSchema = Type.Object(
  {
    id: Type.String({ description: "o-<decision id>" }),
    decisionId: Type.String(),
    eventId: Id,
    customerId: CustomerId,
    channel: ChannelSchema,
    point: Type.Union(DECISION_POINTS.map((p) => Type.Literal(p))),
    productId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$" })),
    promotionId: Type.String({ description: "the decided promotion, or 'control'" }),
    segment: Type.String(),
    holdout: Type.Boolean(),
    propensity: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: "the decision's logged P(policy picks this arm | context)" }),
    openedAt: Ts,
    closedAt: Ts,
    closedBy: Type.Union(OUTCOME_CLOSES.map((c) => Type.Literal(c)), { description: "redeemed, purchased (credited without redeeming the offer), expired, overflow" }),
    revenueCents: Type.Integer({ minimum: 0, description: "the purchase's total after discount (0 without a purchase)" }),
    marginCents: Type.Integer({ description: "the purchase's margin after discount (0 without a purchase)" }),
    discountCents: Type.Integer({ minimum: 0, description: "the discount spent from the promotion's budget" }),
    reward: Type.Number({ minimum: 0, maximum: 1, description: "what the conversion model learned: 1 for a conversion, 0 otherwise" }),
    learned: Type.Boolean({ description: "whether the engine learned from it (false for forced control and overflow)" }),
  },
  { $schema: JSON_SCHEMA_DRAFT, $id: "https://promo-stream.local/schema/outcome.json", title: "promo-stream outcome", additionalProperties: false },
);
export type OutcomeRecord = Static<typeof OutcomeSchema>;
