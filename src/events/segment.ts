// A shop's own tracking calls, Segment e-commerce spec v2 (https://segment.com/docs/connections/spec/ecommerce/v2/),
// → events of our contract (issue 22). Pure: no clock (the caller passes nowMs), no I/O, never throws.
//
//   Segment call                      our event
//   track "Product Viewed"            view      productId, category, priceCents
//   track "Product Clicked"           click     productId, category
//   track "Product List Viewed"       view      category, no product (a category page)
//   track "Product Added"             cart      productId, category, priceCents, quantity
//   track "Product Removed"           cart      the same, action "remove"
//   track "Cart Viewed"               view      no product: the cart page (its products[] are dropped)
//   track "Checkout Started"          view      no product: the checkout page. The contract has no
//                                               "checkout" event, and a checkout started is not yet a
//                                               purchase; what it faithfully holds is that the shopper
//                                               looked at a page. The order's fields are dropped.
//   track "Order Completed"           purchase  items from products[], totalCents, discountCents,
//                                               promotionId (coupon), decisionId (decision_id)
//   identify, page, screen, group, alias, and track events not above: ignored, counted by kind.
//
// Every call: messageId → id (Segment dedupes on it too, so a retried call keeps its id and JetStream
// drops the copy); userId, else anonymousId → customerId; timestamp (ISO-8601 with a zone) → ts, else
// nowMs; with sentAt beside it, nowMs - (sentAt - timestamp), Segment's correction of a device's clock. Products: product_id, else sku → productId; price in dollars → cents; quantity (default 1).
// A field the contract cannot hold is dropped and named in `dropped`, never guessed into another
// field; a call that should map but cannot is rejected with a reason. Every mapped event has passed
// the contract's own decoder (codec.ts).
import { decodeEvent, encodeEvent } from "./codec.ts";
import { PS_ERR_SEGMENT, type DeadLetterReason, type SegmentRejectReason } from "./errors.ts";
import { CUSTOMER_ID_MAX_LENGTH, ID_MAX_LENGTH, ID_PATTERN, PRODUCT_ID_MAX_LENGTH, PRODUCT_ID_PATTERN, type CustomerEvent } from "./schema.ts";

/** What an ignored call was: a Segment method other than track, or ("track") a track event not mapped. */
export const SEGMENT_IGNORED_KINDS = ["identify", "page", "screen", "group", "alias", "track"] as const;
export type SegmentIgnoredKind = (typeof SEGMENT_IGNORED_KINDS)[number];

/** The track events mapped, in the spec's names (matched exactly, as the spec writes them). */
export const SEGMENT_MAPPED_EVENTS = ["Product Viewed", "Product Clicked", "Product List Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started", "Order Completed"] as const;

export type SegmentResult =
  | { status: "mapped"; messageId: string; event: CustomerEvent; dropped: string[] }
  | { status: "ignored"; messageId?: string; kind: SegmentIgnoredKind; /** A track call's event name (cut to 64 characters). */ name?: string }
  | { status: "rejected"; messageId?: string; reason: SegmentRejectReason | DeadLetterReason; detail: string };

export interface SegmentOptions {
  /** The largest event accepted (the processor's processor.maxEventBytes); 16384 (its default) when absent. */
  maxEventBytes?: number;
  /** Reject calls without a timestamp instead of stamping them with nowMs (a replayed log has no present). */
  requireTimestamp?: boolean;
}

const DEFAULT_MAX_EVENT_BYTES = 16_384;
const MAX_CENTS = 1_000_000_000;
const MAX_QUANTITY = 10_000;
const ID_RE = new RegExp(ID_PATTERN);
const PRODUCT_ID_RE = new RegExp(PRODUCT_ID_PATTERN);
const OTHER_METHODS: ReadonlySet<string> = new Set(["identify", "page", "screen", "group", "alias"]);

// Names of what `dropped` reports. Fields the spec names are reported by name; anything else at that
// level as `*` (`properties.*`, `properties.products[].*`), and an object field as `context.*`, so the
// set of names (and of metric labels) stays bounded whatever a shop sends.
/** Top-level fields of the Segment spec's common fields. */
const COMMON_FIELDS: ReadonlySet<string> = new Set(["type", "event", "messageId", "userId", "anonymousId", "timestamp", "properties", "sentAt", "receivedAt", "originalTimestamp", "version", "channel", "writeKey"]);
/** Top-level object fields, reported whole. */
const OBJECT_FIELDS: ReadonlySet<string> = new Set(["context", "integrations"]);
/** Properties the v2 spec names for the events mapped here, and our decision_id. */
const SPEC_PROPERTIES: ReadonlySet<string> = new Set([
  "product_id", "sku", "category", "name", "brand", "variant", "price", "quantity", "coupon", "currency", "position", "value", "url", "image_url",
  "cart_id", "list_id", "products", "order_id", "checkout_id", "affiliation", "subtotal", "total", "revenue", "shipping", "tax", "discount", "decision_id",
]);
const SPEC_PRODUCT_FIELDS: ReadonlySet<string> = new Set(["product_id", "sku", "category", "name", "brand", "variant", "price", "quantity", "coupon", "position", "url", "image_url"]);

type Obj = Record<string, unknown>;
type Rejected = Extract<SegmentResult, { status: "rejected" }>;
/** Which of a call's properties (and its products' fields) a mapping used; the rest is dropped. */
interface Used {
  props: Set<string>;
  /** Fields used of each product of `products`, by index (undefined: `products` itself was not used). */
  productFields: Set<string>[] | undefined;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/** Whether a field says anything: null, undefined and "" (what templates send for "none") do not. */
const given = (v: unknown) => v !== undefined && v !== null && v !== "";
const reject = (reason: SegmentRejectReason | DeadLetterReason, detail: string): Rejected => ({ status: "rejected", reason, detail });
const show = (v: unknown): string => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = typeof v;
  }
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
};

/**
 * Dollars → cents, rounding half away from zero on the decimal the number was written as (18.99 →
 * 1899, 1.005 → 101: not on its binary value, 1.00499999…). Undefined for anything but a finite
 * number from 0 to the contract's largest amount.
 */
export function dollarsToCents(v: unknown): number | undefined {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return undefined;
  const s = String(v);
  // Exponent form only below 1e-6 (0 cents) or from 1e21 (too large).
  if (s.includes("e")) return v < 1 ? 0 : undefined;
  const [whole, frac = ""] = s.split(".") as [string, string?];
  const digits = frac.padEnd(3, "0");
  let cents = Number(whole) * 100 + Number(digits.slice(0, 2));
  if (digits.charCodeAt(2) >= 53 /* "5" */) cents++;
  return Number.isSafeInteger(cents) && cents <= MAX_CENTS ? cents : undefined;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * An ISO-8601 time with a zone ("2012-12-02T00:30:08.276Z", "…+01:00") → ms since the epoch;
 * undefined otherwise. A time without a zone is refused rather than read in some zone; fractions
 * below a millisecond are cut.
 */
export function parseIsoTime(s: unknown): number | undefined {
  if (typeof s !== "string") return undefined;
  const m = ISO_TIME.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as [string, string, string, string, string, string, string | undefined, string | undefined, string];
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, "0")) : 0;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0), ms);
  // Date.UTC rolls 2024-02-30 over into March: refuse what does not come back as written.
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59)
    return undefined;
  if (zone === "Z") return t;
  const z = zone.replace(":", "");
  const offH = Number(z.slice(1, 3));
  const offM = Number(z.slice(3, 5));
  if (offH > 23 || offM > 59) return undefined;
  return t - (offH * 60 + offM) * 60_000 * (z[0] === "-" ? -1 : 1);
}

/** An id given as a string, or as a whole number (a shop's database ids often are), as its string. */
function idString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  return undefined;
}

interface Product {
  productId: string;
  category?: unknown;
  priceCents?: number;
  quantity?: number;
}

/**
 * A product's fields from `o` (the properties, or one of an order's products): product_id, else
 * sku; category; price (required, optional, or not read: a click holds none); quantity (when
 * `withQuantity`, default 1). Records in `used` what it read.
 */
function productOf(o: Obj, where: string, used: Set<string>, price: "required" | "optional" | "unread", withQuantity: boolean): Product | Rejected {
  const key = given(o.product_id) ? "product_id" : given(o.sku) ? "sku" : undefined;
  if (!key) return reject(PS_ERR_SEGMENT.MissingProduct, `${where}product_id and ${where}sku are both absent`);
  used.add(key);
  const productId = idString(o[key]);
  if (productId === undefined || productId.length === 0 || productId.length > PRODUCT_ID_MAX_LENGTH || !PRODUCT_ID_RE.test(productId))
    return reject(PS_ERR_SEGMENT.BadProductId, `${where}${key} ${show(o[key])} is no product id of the contract (letters, digits and . _ -, at most ${PRODUCT_ID_MAX_LENGTH})`);
  const out: Product = { productId };
  if (given(o.category)) {
    used.add("category");
    out.category = o.category;
  }
  if (price !== "unread" && given(o.price)) {
    used.add("price");
    const cents = dollarsToCents(o.price);
    if (cents === undefined) return reject(PS_ERR_SEGMENT.BadAmount, `${where}price ${show(o.price)} is no amount in dollars from 0 to ${MAX_CENTS / 100}`);
    out.priceCents = cents;
  } else if (price === "required") return reject(PS_ERR_SEGMENT.MissingPrice, `${where}price is absent`);
  if (withQuantity) {
    used.add("quantity");
    const q = given(o.quantity) ? o.quantity : 1;
    if (typeof q !== "number" || !Number.isInteger(q) || q < 1 || q > MAX_QUANTITY) return reject(PS_ERR_SEGMENT.BadQuantity, `${where}quantity ${show(q)} is no whole number from 1 to ${MAX_QUANTITY}`);
    out.quantity = q;
  }
  return out;
}

/** The event's common part: id, ts, customerId (in that key order, as the rest of the code writes events). */
interface Base {
  id: string;
  ts: number;
  customerId: string;
}

type Mapping = (p: Obj, base: Base, used: Used) => CustomerEvent | Rejected;

const productView: Mapping = (p, base, used) => {
  const r = productOf(p, "properties.", used.props, "optional", false);
  if ("status" in r) return r;
  return { type: "view", ...base, productId: r.productId, ...(r.category !== undefined ? { category: r.category as string } : {}), ...(r.priceCents !== undefined ? { priceCents: r.priceCents } : {}) };
};

const productClick: Mapping = (p, base, used) => {
  const r = productOf(p, "properties.", used.props, "unread", false);
  if ("status" in r) return r;
  return { type: "click", ...base, productId: r.productId, ...(r.category !== undefined ? { category: r.category as string } : {}) };
};

const cartLine =
  (action: "add" | "remove"): Mapping =>
  (p, base, used) => {
    const r = productOf(p, "properties.", used.props, "required", true);
    if ("status" in r) return r;
    return {
      type: "cart",
      ...base,
      productId: r.productId,
      ...(r.category !== undefined ? { category: r.category as string } : {}),
      quantity: r.quantity!,
      priceCents: r.priceCents!,
      // An add is written as the contract's events always were (no action), so older readers see no change.
      ...(action === "remove" ? { action } : {}),
    };
  };

/** A page the shopper looked at that is no product's: a view with no product. */
const pageView: Mapping = (_p, base) => ({ type: "view", ...base });

const categoryView: Mapping = (p, base, used) => {
  if (!given(p.category)) return { type: "view", ...base };
  used.props.add("category");
  return { type: "view", ...base, category: p.category as string };
};

const orderCompleted: Mapping = (p, base, used) => {
  // totalCents is what the shopper paid for the goods after discount (the simulator's and the
  // engine's meaning). The spec's own example (total 27.50, subtotal 22.50, revenue 25.00, discount
  // 2.50, shipping 3, tax 2, products 19 + 2 × 3) shows subtotal is exactly that, revenue is before
  // the discount and total adds shipping and tax; so subtotal first, then revenue, then total, each
  // as sent (the spec leaves it to the shop how discounts enter revenue and total).
  const totalKey = ["subtotal", "revenue", "total"].find((k) => given(p[k]));
  if (!totalKey) return reject(PS_ERR_SEGMENT.MissingTotal, "properties.subtotal, .revenue and .total are all absent");
  used.props.add(totalKey);
  const totalCents = dollarsToCents(p[totalKey]);
  if (totalCents === undefined) return reject(PS_ERR_SEGMENT.BadAmount, `properties.${totalKey} ${show(p[totalKey])} is no amount in dollars from 0 to ${MAX_CENTS / 100}`);
  let discountCents: number | undefined;
  if (given(p.discount)) {
    used.props.add("discount");
    discountCents = dollarsToCents(p.discount);
    if (discountCents === undefined) return reject(PS_ERR_SEGMENT.BadAmount, `properties.discount ${show(p.discount)} is no amount in dollars from 0 to ${MAX_CENTS / 100}`);
  }
  let items: { productId: string; category?: string; quantity: number; priceCents: number }[] | undefined;
  if (given(p.products)) {
    used.props.add("products");
    if (!Array.isArray(p.products)) return reject(PS_ERR_SEGMENT.BadProducts, `properties.products ${show(p.products)} is not an array`);
    used.productFields = [];
    items = [];
    for (let i = 0; i < p.products.length; i++) {
      const o: unknown = p.products[i];
      if (!isObj(o)) return reject(PS_ERR_SEGMENT.BadProducts, `properties.products[${i}] ${show(o)} is not an object`);
      const fields = new Set<string>();
      used.productFields.push(fields);
      const r = productOf(o, `properties.products[${i}].`, fields, "required", true);
      if ("status" in r) return r;
      items.push({ productId: r.productId, ...(r.category !== undefined ? { category: r.category as string } : {}), quantity: r.quantity!, priceCents: r.priceCents! });
    }
  }
  // The coupon is the promotion only when the shop sets it to the offer's promotion id (README); any
  // other coupon code names no promotion of ours and credits none.
  if (given(p.coupon)) used.props.add("coupon");
  // decision_id is no spec property: our extension, the decision the shop showed (d-<event id>).
  if (given(p.decision_id)) used.props.add("decision_id");
  return {
    type: "purchase",
    ...base,
    totalCents,
    ...(items ? { items } : {}),
    ...(discountCents !== undefined ? { discountCents } : {}),
    ...(given(p.coupon) ? { promotionId: p.coupon as string } : {}),
    ...(given(p.decision_id) ? { decisionId: p.decision_id as string } : {}),
  };
};

// A Map, not an object: an event named "constructor" or "__proto__" must find nothing.
const MAPPINGS: ReadonlyMap<string, Mapping> = new Map<(typeof SEGMENT_MAPPED_EVENTS)[number], Mapping>([
  ["Product Viewed", productView],
  ["Product Clicked", productClick],
  ["Product List Viewed", categoryView],
  ["Product Added", cartLine("add")],
  ["Product Removed", cartLine("remove")],
  ["Cart Viewed", pageView],
  ["Checkout Started", pageView],
  ["Order Completed", orderCompleted],
]);

/** The names of what the contract could not hold of a mapped call, sorted. */
function droppedOf(call: Obj, props: Obj, used: Used, usedTop: readonly string[], batch: Obj | undefined): string[] {
  const out = new Set<string>();
  for (const k of Object.keys(call)) {
    if (!given(call[k]) || usedTop.includes(k) || k === "type" || k === "event" || k === "messageId" || k === "timestamp" || k === "properties") continue;
    out.add(OBJECT_FIELDS.has(k) ? `${k}.*` : COMMON_FIELDS.has(k) ? k : "*");
  }
  for (const k of Object.keys(props)) {
    if (!given(props[k]) || used.props.has(k)) continue;
    out.add(SPEC_PROPERTIES.has(k) ? `properties.${k}` : "properties.*");
  }
  if (used.productFields && Array.isArray(props.products))
    (props.products as Obj[]).forEach((o, i) => {
      for (const k of Object.keys(o)) {
        if (!given(o[k]) || used.productFields![i]!.has(k)) continue;
        out.add(SPEC_PRODUCT_FIELDS.has(k) ? `properties.products[].${k}` : "properties.products[].*");
      }
    });
  // A batch's context and integrations are merged into each of its calls (Segment's HTTP API).
  if (batch) for (const k of OBJECT_FIELDS) if (given(batch[k])) out.add(`${k}.*`);
  return [...out].sort();
}

function mapCall(call: unknown, nowMs: number, opts: SegmentOptions, batch: Obj | undefined): SegmentResult {
  if (!isObj(call)) return reject(PS_ERR_SEGMENT.NotACall, `${show(call)} is not an object`);
  const messageId = typeof call.messageId === "string" ? call.messageId : undefined;
  const withId = <R extends SegmentResult>(r: R): R => (messageId !== undefined && r.messageId === undefined ? { ...r, messageId } : r);
  const type = call.type;
  if (typeof type !== "string") return withId(reject(PS_ERR_SEGMENT.NotACall, `type ${show(type)} is not a Segment method (track, identify, page, screen, group, alias)`));
  if (OTHER_METHODS.has(type)) return withId({ status: "ignored", kind: type as SegmentIgnoredKind });
  if (type !== "track") return withId(reject(PS_ERR_SEGMENT.NotACall, `type ${show(type)} is not a Segment method (track, identify, page, screen, group, alias)`));
  const name = call.event;
  if (typeof name !== "string" || name.length === 0) return withId(reject(PS_ERR_SEGMENT.MissingEvent, `a track call needs an event name, got ${show(name)}`));
  const mapping = MAPPINGS.get(name);
  if (!mapping) return withId({ status: "ignored", kind: "track", name: name.slice(0, 64) });

  if (!given(call.messageId)) return reject(PS_ERR_SEGMENT.MissingMessageId, "messageId is absent: it is the event's id, which makes a retried call a duplicate instead of a second event");
  if (messageId === undefined || messageId.length === 0 || messageId.length > ID_MAX_LENGTH || !ID_RE.test(messageId))
    return withId(reject(PS_ERR_SEGMENT.BadMessageId, `messageId ${show(call.messageId)} is no event id of the contract (letters, digits and . _ : @ -, at most ${ID_MAX_LENGTH})`));
  const customerKey = given(call.userId) ? "userId" : given(call.anonymousId) ? "anonymousId" : undefined;
  if (!customerKey) return withId(reject(PS_ERR_SEGMENT.MissingUserId, "userId and anonymousId are both absent"));
  const customerId = idString(call[customerKey]);
  if (customerId === undefined || customerId.length > CUSTOMER_ID_MAX_LENGTH)
    return withId(reject(PS_ERR_SEGMENT.BadUserId, `${customerKey} ${show(call[customerKey])} is no customer id (a string or whole number, at most ${CUSTOMER_ID_MAX_LENGTH} characters)`));
  let ts: number;
  let skewCorrected = false;
  if (given(call.timestamp)) {
    const t = parseIsoTime(call.timestamp);
    if (t === undefined) return withId(reject(PS_ERR_SEGMENT.BadTimestamp, `timestamp ${show(call.timestamp)} is no ISO-8601 time with a zone, like 2012-12-02T00:30:12.984Z`));
    ts = t;
    // A raw call from Segment's browser or mobile libraries carries the device's clock in timestamp and
    // sentAt; Segment's API corrects it as receivedAt - (sentAt - timestamp), the device's skew taken
    // out. Read as written, a phone minutes ahead or behind stamped its events with its own clock
    // (the processor dead-letters them as far-future or late, or orders them wrongly), and in a
    // simulated shop every browser call was the wall clock's, not the shop's. A call Segment has already
    // processed (originalTimestamp, receivedAt) holds the corrected time; a replayed log has no present.
    // The call's own sentAt, else the batch's: analytics.js's batching takes sentAt off each call and
    // sends one for the whole batch.
    const sent = given(call.sentAt) ? parseIsoTime(call.sentAt) : batch && given(batch.sentAt) ? parseIsoTime(batch.sentAt) : undefined;
    if (sent !== undefined && !opts.requireTimestamp && !given(call.originalTimestamp) && !given(call.receivedAt)) {
      ts = Math.floor(nowMs) - Math.max(0, sent - t);
      skewCorrected = true;
    }
  } else if (opts.requireTimestamp) return withId(reject(PS_ERR_SEGMENT.MissingTimestamp, "timestamp is absent, and a replayed log has no present to stamp it with"));
  else ts = Math.floor(nowMs);
  const props = given(call.properties) ? call.properties : {};
  if (!isObj(props)) return withId(reject(PS_ERR_SEGMENT.NotACall, `properties ${show(props)} is not an object`));

  const used: Used = { props: new Set(), productFields: undefined };
  const ev = mapping(props, { id: messageId, ts, customerId }, used);
  if ("status" in ev) return withId(ev);
  // The contract's own decoder has the last word: what it refuses (a category too long, a coupon
  // that is no promotion id, too many products, …) is rejected with its reason.
  const decoded = decodeEvent(encodeEvent(ev), opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
  if (!decoded.ok) return withId(reject(decoded.reason, decoded.detail));
  return { status: "mapped", messageId, event: decoded.value as CustomerEvent, dropped: droppedOf(call, props, used, skewCorrected ? [customerKey, "sentAt"] : [customerKey], batch) };
}

function guarded(call: unknown, nowMs: number, opts: SegmentOptions, batch: Obj | undefined): SegmentResult {
  try {
    return mapCall(call, nowMs, opts, batch);
  } catch (err) {
    // Only an object no JSON parser makes gets here (a getter that throws, a BigInt): still a result.
    return reject(PS_ERR_SEGMENT.NotACall, `unreadable call: ${(err as Error)?.message ?? String(err)}`.slice(0, 200));
  }
}

/** One Segment call → its result. Never throws. */
export function mapSegmentCall(call: unknown, nowMs: number, opts: SegmentOptions = {}): SegmentResult {
  return guarded(call, nowMs, opts, undefined);
}

/** Whether `input` has the shape of Segment's HTTP batch endpoint (`{"batch": […]}`). */
export function isSegmentBatch(input: unknown): input is { batch: unknown[] } {
  return isObj(input) && Array.isArray(input.batch);
}

/**
 * One call or a batch (`{"batch": [...], "context": {...}}`) → a result per call, in order; a batch
 * whose `batch` is no array → one rejected result. Never throws.
 */
export function mapSegment(input: unknown, nowMs: number, opts: SegmentOptions = {}): SegmentResult[] {
  try {
    if (isObj(input) && Object.hasOwn(input, "batch")) {
      if (!Array.isArray(input.batch)) return [reject(PS_ERR_SEGMENT.NotACall, `batch ${show(input.batch)} is not an array`)];
      return input.batch.map((c) => guarded(c, nowMs, opts, input));
    }
  } catch (err) {
    return [reject(PS_ERR_SEGMENT.NotACall, `unreadable input: ${(err as Error)?.message ?? String(err)}`.slice(0, 200))];
  }
  return [guarded(input, nowMs, opts, undefined)];
}

/** Counts of a set of results: calls mapped, ignored by kind, rejected by reason, dropped fields by name (once per call). */
export interface SegmentTally {
  mapped: number;
  ignored: Record<string, number>;
  rejected: Record<string, number>;
  dropped: Record<string, number>;
}

export function emptySegmentTally(): SegmentTally {
  return { mapped: 0, ignored: {}, rejected: {}, dropped: {} };
}

/** Adds the results to `into` (a fresh tally when absent) and returns it. */
export function tallySegment(results: readonly SegmentResult[], into: SegmentTally = emptySegmentTally()): SegmentTally {
  for (const r of results) {
    if (r.status === "mapped") {
      into.mapped++;
      for (const f of r.dropped) into.dropped[f] = (into.dropped[f] ?? 0) + 1;
    } else if (r.status === "ignored") into.ignored[r.kind] = (into.ignored[r.kind] ?? 0) + 1;
    else into.rejected[r.reason] = (into.rejected[r.reason] ?? 0) + 1;
  }
  return into;
}

/** Adds tally `t` to `into` and returns `into`. */
export function addSegmentTally(into: SegmentTally, t: SegmentTally): SegmentTally {
  into.mapped += t.mapped;
  for (const [k, n] of Object.entries(t.ignored)) into.ignored[k] = (into.ignored[k] ?? 0) + n;
  for (const [k, n] of Object.entries(t.rejected)) into.rejected[k] = (into.rejected[k] ?? 0) + n;
  for (const [k, n] of Object.entries(t.dropped)) into.dropped[k] = (into.dropped[k] ?? 0) + n;
  return into;
}
