// The whole configuration as one TypeBox schema. Defaults live in config/default.json (one place);
// this file only says what is valid. Every leaf carries a `description` that error messages quote as
// the fix, so a bad value is reported as "key (env VAR) must be …; fix: …".
import { Type, type Static } from "@sinclair/typebox";
// Also registers the "date-time" string format the schema below uses.
import { POLICY_MODES, PromotionSchema, type PolicyMode, type PromotionConfig } from "../events/index.ts";

const PosInt = (description: string) => Type.Integer({ minimum: 1, description });
const NonNegInt = (description: string) => Type.Integer({ minimum: 0, description });
const Share = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Str = (description: string) => Type.String({ description });
const Port = (description: string) => Type.Integer({ minimum: 0, maximum: 65535, description });

const StreamLimits = Type.Object(
  {
    name: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "a stream name of letters, digits, _ or -" }),
    maxAgeSec: PosInt("the longest time a message is kept, in seconds"),
    maxBytes: PosInt("the stream's size limit in bytes"),
    maxMsgBytes: PosInt("the largest message the stream accepts, in bytes"),
    duplicateWindowSec: PosInt("how long the server remembers Nats-Msg-Id values, in seconds"),
    replicas: Type.Integer({ minimum: 1, maximum: 5, description: "1 on one server, 3 on a cluster" }),
  },
  { additionalProperties: false },
);

const Channel = Type.Union([Type.Literal("web"), Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")], {
  description: "one of web, email, sms, push",
});

const PerChannel = <T extends ReturnType<typeof Type.Object> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Object({ web: t, email: t, sms: t, push: t }, { additionalProperties: false });

const FrequencyCap = Type.Object(
  {
    maxOffers: NonNegInt("how many promotions one customer may be offered on this channel per window"),
    windowSec: PosInt("the cap's window in seconds"),
  },
  { additionalProperties: false },
);

// A promotion is part of the event contract (a promotion change is an event in the log); the
// configuration's list uses that same definition.
export { PromotionSchema };
export type { PromotionConfig };

/** The numeric features of src/features' FeatureVector a segment rule may test. */
export const SEGMENT_FEATURES = [
  "purchasesTotal",
  "cartValueCents",
  "priceSensitivity",
  "topCategoryShare",
  "minutesSinceLastEvent",
  "minutesSinceLastPurchase",
  "views5m",
  "views1h",
  "views24h",
  "clicks5m",
  "clicks1h",
  "clicks24h",
  "carts5m",
  "carts1h",
  "carts24h",
  "purchases5m",
  "purchases1h",
  "purchases24h",
] as const;

/** A categorical rule: the segment label is the feature's value itself (e.g. the top category viewed). */
export const LabelRuleSchema = Type.Object(
  {
    name: Str("the rule's dimension name"),
    feature: Type.Literal("topCategory", { description: "topCategory" }),
    op: Type.Literal("label", { description: "label: the value itself is the label" }),
    else: Type.String({ pattern: "^[a-z0-9-]+$", description: "label when the feature has no value" }),
  },
  { additionalProperties: false },
);

export const ThresholdRuleSchema = Type.Object(
  {
    name: Str("the rule's dimension name"),
    feature: Type.Union(
      SEGMENT_FEATURES.map((f) => Type.Literal(f)),
      { description: `one of ${SEGMENT_FEATURES.join(", ")}` },
    ),
    op: Type.Union([Type.Literal(">="), Type.Literal(">"), Type.Literal("<="), Type.Literal("<")], {
      description: "one of >=, >, <=, <",
    }),
    value: Type.Number({ description: "the threshold" }),
    then: Type.String({ pattern: "^[a-z0-9-]+$", description: "label when the comparison holds" }),
    else: Type.String({ pattern: "^[a-z0-9-]+$", description: "label otherwise" }),
  },
  { additionalProperties: false },
);
export const SegmentRuleSchema = Type.Union([ThresholdRuleSchema, LabelRuleSchema], {
  description: "a threshold rule {name, feature, op: >=|>|<=|<, value, then, else} or a label rule {name, feature: topCategory, op: label, else}",
});
export type SegmentRule = Static<typeof SegmentRuleSchema>;

/** How decisions are served (issue 23): the learner alone, the shop's rule while the learner learns, or the learner within a bound against the rule. */
export { POLICY_MODES };
export type { PolicyMode };
/** The shop's rules built in (src/engine/baseline.ts spells them out). */
export const BUILTIN_BASELINES = ["seed-rule", "never"] as const;

/** What the shop's rule does on one channel: offer a promotion (or control), on the web at the n-th view of a product. */
export const BaselineChannelRuleSchema = Type.Object(
  {
    offer: Type.String({ minLength: 1, description: "the id of a configured promotion, or control (no promotion)" }),
    atView: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: "web only: offer at a product view that is the n-th view of that product in the visit without a purchase (1…100), no promotion before it and at other decision points",
      }),
    ),
  },
  { additionalProperties: false },
);
export type BaselineChannelRule = Static<typeof BaselineChannelRuleSchema>;

/** A shop's rule as configuration: per channel what it offers; a channel it does not name gets no promotion. */
export const BaselineRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: "^[a-z0-9-]+$", description: "the rule's name: lower-case letters, digits and -" }),
    web: Type.Optional(BaselineChannelRuleSchema),
    email: Type.Optional(BaselineChannelRuleSchema),
    sms: Type.Optional(BaselineChannelRuleSchema),
    push: Type.Optional(BaselineChannelRuleSchema),
  },
  { additionalProperties: false },
);
export type BaselineRule = Static<typeof BaselineRuleSchema>;

export const ConfigSchema = Type.Object(
  {
    nats: Type.Object(
      {
        url: Str("a NATS URL such as nats://host:4222, or empty to start an embedded nats-server"),
        host: Str("the embedded server's listen address"),
        port: Port("a free TCP port for the embedded nats-server, or 0 for any free one"),
        storeDir: Type.String({ minLength: 1, description: "a writable directory for the embedded server's JetStream store (not empty: relative paths are under the repository)" }),
        serverBinary: Str("the nats-server executable's name or path"),
        user: Str("a NATS user name, or empty"),
        pass: Str("that user's password, or empty"),
        token: Str("a NATS auth token, or empty"),
        nkeySeedFile: Str("a file holding an nkey seed (SU…), or empty"),
        tls: Type.Object(
          {
            enabled: Type.Boolean({ description: "true to require TLS to NATS" }),
            caFile: Str("a CA certificate file, or empty"),
            certFile: Str("a client certificate file, or empty"),
            keyFile: Str("the client key file, or empty"),
          },
          { additionalProperties: false },
        ),
        subjectPrefix: Type.String({
          pattern: "^([A-Za-z0-9_-]+\\.)*$",
          description: "empty, or tokens each followed by a dot, e.g. 'shop1.'",
        }),
        connectTimeoutMs: PosInt("milliseconds to wait for the first connection"),
        pingIntervalMs: PosInt("milliseconds between the client's pings to the server; a connection is closed and another dialled after maxPingsOut pings go unanswered"),
        maxPingsOut: PosInt("unanswered pings after which the connection is taken for dead"),
      },
      { additionalProperties: false },
    ),
    streams: Type.Object(
      { events: StreamLimits, decisions: StreamLimits, outcomes: StreamLimits, deadletter: StreamLimits },
      { additionalProperties: false },
    ),
    kv: Type.Object(
      {
        stateBucket: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "a KV bucket name" }),
        inventoryBucket: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "a KV bucket name" }),
        leaseBucket: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "a KV bucket name" }),
        answersBucket: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "a KV bucket name" }),
      },
      { additionalProperties: false },
    ),
    partitions: Type.Integer({ minimum: 1, maximum: 1024, description: "the number of event partitions, 1…1024" }),
    processor: Type.Object(
      {
        durable: Type.String({ pattern: "^[A-Za-z0-9_-]+$", description: "the durable consumer's name" }),
        batchSize: Type.Integer({ minimum: 1, maximum: 10000, description: "messages pulled per request, 1…10000" }),
        ackWaitSec: PosInt("seconds before an unacknowledged message is redelivered"),
        maxInFlightPublishes: PosInt("decision publishes awaiting their ack at once"),
        flushEveryMessages: PosInt("acknowledge the stream at least every this many messages"),
        flushEveryMs: PosInt("and at least every this many milliseconds"),
        snapshotEveryMs: PosInt("milliseconds between KPI snapshots"),
        maxEventBytes: PosInt("the largest event payload accepted, in bytes"),
        // Every decision's generator takes the seed modulo 2^32 (src/random, rngFromKey), like the world's
        // (simulator.seed): a larger one drew another seed's decisions under its own name.
        seed: Type.Integer({ minimum: 0, maximum: 4294967295, description: "the seed mixed into every decision's random draws, 0…4294967295" }),
        metricsPort: Port("a port for /metrics and /health when the processor runs on its own (0: none)"),
        checkpointEveryEvents: PosInt("write a checkpoint at least every this many events"),
        checkpointEverySec: PosInt("and at least every this many seconds while events flow"),
      },
      { additionalProperties: false },
    ),
    features: Type.Object(
      {
        maxMemoryMb: Type.Integer({ minimum: 16, description: "megabytes the customer store may hold (columns, records, index, hot set) before the least recently used customers go; at least 16" }),
        maxCustomers: Type.Optional(PosInt("customers kept at most (LRU), besides the memory bound; none when absent")),
        hotCustomers: PosInt("customers kept decoded between their events (the hot set, ~3 KB each, inside maxMemoryMb); a customer outside it is decoded from its compact record at each event"),
        idleTtlSec: PosInt("seconds of event time after which an idle customer is forgotten"),
        allowedLatenessSec: NonNegInt("how late (event time) an event may arrive and still count, in seconds"),
        maxFutureSkewSec: PosInt("how far ahead of the newest event time an event may be, in seconds"),
        topCategories: Type.Integer({ minimum: 1, maximum: 32, description: "categories tracked per customer, 1…32" }),
        recentEventIds: PosInt("event ids remembered to drop duplicates"),
      },
      { additionalProperties: false },
    ),
    decisionPoints: Type.Object(
      {
        visit: Type.Boolean({ description: "true to decide at a visit (a banner before any product is seen), false to only observe visits" }),
        productView: Type.Object(
          {
            enabled: Type.Boolean({ description: "true to decide when a shopper looks at a product" }),
            minViews: Type.Integer({ minimum: 1, maximum: 100, description: "views of the product in the visit, without a purchase, that trigger the decision, 1…100" }),
            maxPerVisit: Type.Integer({ minimum: 1, maximum: 100, description: "product decisions per visit at most, 1…100" }),
          },
          { additionalProperties: false },
        ),
        cart: Type.Boolean({ description: "true to decide when a product is added to the cart" }),
        visitGapSec: PosInt("seconds without an event after which a shopper's next event starts a new visit (when events carry no session id)"),
      },
      { additionalProperties: false },
    ),
    bandit: Type.Object(
      {
        model: Type.Union([Type.Literal("logistic"), Type.Literal("tabular")], {
          description: "logistic (a Bayesian logistic model of conversion per arm over the customer's features) or tabular (a Beta posterior per arm and segment)",
        }),
        holdoutShare: Type.Number({ minimum: 0, maximum: 0.5, description: "a share of decisions in [0, 0.5]" }),
        priorAlpha: Type.Number({ exclusiveMinimum: 0, description: "a positive number" }),
        priorBeta: Type.Number({ exclusiveMinimum: 0, description: "a positive number" }),
        hierarchyStrength: Type.Number({ exclusiveMinimum: 0, description: "pseudo-observations a segment borrows" }),
        halfLifeSec: NonNegInt("seconds of event time for a posterior to forget half; 0 turns forgetting off"),
        propensityDraws: Type.Integer({ minimum: 1, maximum: 10000, description: "Monte Carlo draws, 1…10000 (propensityMethod monte-carlo)" }),
        propensityMethod: Type.Union([Type.Literal("quadrature"), Type.Literal("monte-carlo")], {
          description: "quadrature (deterministic, fast) or monte-carlo",
        }),
        propensityNodes: Type.Integer({ minimum: 4, maximum: 64, description: "Gauss–Legendre nodes, 4…64 (propensityMethod quadrature)" }),
        reward: Type.Union([Type.Literal("conversion"), Type.Literal("margin")], {
          description: "margin (expected incremental margin: margin if bought × conversion) or conversion (conversion alone)",
        }),
        defaultMarginShare: Share("the margin share assumed when a product's cost is unknown"),
        logistic: Type.Object(
          {
            priorSd: Type.Number({ exclusiveMinimum: 0, description: "prior standard deviation of the shared baseline's weights, > 0" }),
            armPriorSd: Type.Number({ exclusiveMinimum: 0, description: "prior standard deviation of each arm's intercept (its effect on the average customer), > 0" }),
            contextPriorSd: Type.Number({ exclusiveMinimum: 0, description: "prior standard deviation of each arm's context terms (how its effect differs by customer), > 0" }),
            priorConversion: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: "the conversion rate the baseline starts from, 0 < x < 1" }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    attribution: Type.Object(
      {
        windowSecByChannel: PerChannel(PosInt("the attribution window in seconds")),
        maxPending: PosInt("open decisions kept at most; beyond it the oldest closes early as a failure"),
      },
      { additionalProperties: false },
    ),
    guards: Type.Object(
      {
        stockReserve: NonNegInt("units of stock never promised to offers"),
        frequencyCaps: PerChannel(FrequencyCap),
      },
      { additionalProperties: false },
    ),
    policy: Type.Object(
      {
        mode: Type.Union(
          POLICY_MODES.map((m) => Type.Literal(m)),
          { description: "learner (the engine decides), apprentice (the shop's rule serves while the engine learns, until it graduates) or conservative (the engine decides within policy.conservativeAlpha of the rule)" },
        ),
        baseline: Type.Union([Type.String({ pattern: "^[a-z0-9-]+$" }), BaselineRuleSchema], {
          description: `the shop's rule: ${BUILTIN_BASELINES.join(" or ")}, or {"name", "web"?, "email"?, "sms"?, "push"?} each {"offer": a promotion id or control, "atView"?: n (web)}`,
        }),
        // Not 0: the log would give every arm but the rule's a propensity of 0, and the learner's estimate
        // would rest on its model alone where it differs from the rule (graduation on its prior).
        apprenticeExplore: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, description: "the share of apprentice decisions explored (a quarter uniformly among the eligible arms, the rest by the learner's own draw), in (0, 0.5]: with 0 the log holds no evidence on any arm but the rule's" }),
        graduateAfter: PosInt("closed apprentice decisions the evidence must rest on before the engine may graduate"),
        graduateTo: Type.Union([Type.Literal("conservative"), Type.Literal("learner")], { description: "conservative or learner: the mode an apprentice graduates to" }),
        conservativeAlpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.5, description: "the share of the rule's margin the learner may lose, in (0, 0.5]" }),
      },
      { additionalProperties: false },
    ),
    segments: Type.Array(SegmentRuleSchema, { maxItems: 8, description: "at most 8 segment rules" }),
    promotions: Type.Array(PromotionSchema, { description: "the list of promotions" }),
    scale: Type.Object(
      {
        enabled: Type.Boolean({ description: "true to run partitioned processors (one durable consumer per partition, leases in KV)" }),
        instanceId: Type.String({ pattern: "^[A-Za-z0-9_-]*$", description: "this processor instance's name (letters, digits, _ or -), or empty for host-pid" }),
        leaseTtlSec: Type.Integer({ minimum: 2, maximum: 600, description: "seconds a partition lease lives without renewal, 2…600" }),
        syncEveryMs: Type.Integer({ minimum: 50, maximum: 60000, description: "the bound (ms) on how stale another partition's counts may be, 50…60000" }),
        budgetGrantShare: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: "share of a promotion's budget granted to a partition at a time, (0, 1]" }),
        unitGrant: PosInt("units of a product granted to a partition at a time"),
        allowanceEveryMs: Type.Integer({ minimum: 20, maximum: 60000, description: "milliseconds between grant checks, 20…60000" }),
      },
      { additionalProperties: false },
    ),
    server: Type.Object(
      {
        host: Str("an address to listen on, e.g. 127.0.0.1"),
        port: Port("a free TCP port for HTTP and WebSocket"),
        token: Str("an access token for the API, or empty (required when host is not loopback)"),
        allowedOrigins: Type.Array(Type.String(), { description: "origins (besides this server) whose pages may open the WebSocket and send requests to the API (no CORS headers are sent: such a page cannot read the answers)" }),
        deltaEveryMs: PosInt("milliseconds between WebSocket updates"),
        wsMaxBufferedBytes: PosInt("bytes queued for one WebSocket client before frames are skipped"),
        wsMaxSkippedFrames: PosInt("skipped frames in a row before a slow client is dropped"),
        wsMaxPayloadBytes: PosInt("the largest message a client may send, in bytes"),
        maxRequestBytes: PosInt("the largest HTTP request body, in bytes"),
        feedSize: PosInt("decisions kept for the live feed"),
        maxBatch: Type.Integer({ minimum: 1, maximum: 10000, description: "events in one POST /api/events or /api/track, 1…10000" }),
        maxBatchBytes: PosInt("the largest body of POST /api/events or /api/track, in bytes"),
        pingIntervalMs: PosInt("milliseconds between WebSocket pings"),
      },
      { additionalProperties: false },
    ),
    decide: Type.Object(
      {
        timeoutMs: Type.Integer({ minimum: 1, maximum: 60000, description: "milliseconds a decide request waits for its decision before answering timeout, 1…60000" }),
        maxInFlight: PosInt("decide requests waiting for their decision at once; more are refused with 503 and Retry-After"),
        answerTtlSec: Type.Integer({ minimum: 10, maximum: 604800, description: "seconds each answer is kept for a retry under the same event id, 10…604800" }),
        answersMaxBytes: PosInt("bytes of answers kept (the oldest go first)"),
      },
      { additionalProperties: false },
    ),
    simulator: Type.Object(
      {
        // The world's generator takes its seed modulo 2^32 (rngFromSeed), as sim.control's seed range says:
        // a larger one ran another seed's world under its own name.
        seed: Type.Integer({ minimum: 0, maximum: 4294967295, description: "the world's seed, 0…4294967295" }),
        scenario: Type.String({ pattern: "^[a-z0-9-]+$", description: "a file name under config/scenarios without .json" }),
        speed: Type.Union([Type.Number({ minimum: 0.1, maximum: 100 }), Type.Literal("max")], {
          description: "0.1…100 times real time, or max (as fast as the bus takes it)",
        }),
        startTime: Type.String({ format: "date-time", description: "the simulated clock's start, ISO-8601" }),
        shoppers: PosInt("the number of simulated shoppers"),
        products: Type.Integer({ minimum: 1, maximum: 999, description: "products in the catalog, 1…999" }),
        categories: Type.Array(Type.String({ pattern: "^[a-z0-9-]+$" }), {
          minItems: 1,
          description: "category names (lower-case)",
        }),
        visitsPerSec: Type.Number({ exclusiveMinimum: 0, description: "shopper visits per simulated second" }),
        tickMs: PosInt("real milliseconds between simulator steps"),
        maxInFlightPublishes: PosInt("event publishes awaiting their ack at once"),
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
          { description: "one of fatal, error, warn, info, debug, trace, silent" },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ChannelName = Static<typeof Channel>;
