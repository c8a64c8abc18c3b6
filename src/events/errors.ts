/** Why a message was dead-lettered. Stable codes: metrics, logs and the DEADLETTER stream use them. */
export const PS_ERR_EVENT = {
  Oversized: "oversized",
  NotJson: "not-json",
  UnknownType: "unknown-type",
  Invalid: "invalid",
  SubjectMismatch: "subject-mismatch",
  Late: "late",
  FarFuture: "far-future",
  Duplicate: "duplicate",
} as const;
export type DeadLetterReason = (typeof PS_ERR_EVENT)[keyof typeof PS_ERR_EVENT];

/**
 * Why a Segment call that promo-stream maps (src/events/segment.ts) was rejected: stable codes for
 * /api/track's answers, the replay summary and logs. A mapped event the contract's decoder refuses
 * is rejected with the decoder's own reason (PS_ERR_EVENT: invalid, oversized) instead.
 */
export const PS_ERR_SEGMENT = {
  /** Not a Segment call: not an object, no `type`, a type that is no Segment method, a batch that is not an array, `properties` not an object. */
  NotACall: "not-a-call",
  /** A track call without an `event` name. */
  MissingEvent: "missing-event",
  MissingMessageId: "missing-message-id",
  /** A messageId the contract's id pattern refuses (letters, digits and . _ : @ -, at most 128). */
  BadMessageId: "bad-message-id",
  /** Neither userId nor anonymousId. */
  MissingUserId: "missing-user-id",
  /** A userId or anonymousId that is no string (or whole number), or longer than the contract allows. */
  BadUserId: "bad-user-id",
  /** Neither product_id nor sku, where the event needs a product. */
  MissingProduct: "missing-product",
  /** A product id the contract's pattern refuses (letters, digits and . _ -, at most 64). */
  BadProductId: "bad-product-id",
  /** No price where the event needs one (a cart line, an order's product). */
  MissingPrice: "missing-price",
  /** An amount in dollars that is no finite non-negative number, or over the contract's cents. */
  BadAmount: "bad-amount",
  /** A quantity that is no whole number from 1 to 10,000. */
  BadQuantity: "bad-quantity",
  /** `products` of an order that is no array of objects. */
  BadProducts: "bad-products",
  /** An order with none of subtotal, revenue, total. */
  MissingTotal: "missing-total",
  /** A timestamp that is no ISO-8601 time with a zone. */
  BadTimestamp: "bad-timestamp",
  /** No timestamp where the caller cannot stamp one (a replayed log has no present). */
  MissingTimestamp: "missing-timestamp",
} as const;
export type SegmentRejectReason = (typeof PS_ERR_SEGMENT)[keyof typeof PS_ERR_SEGMENT];
