export {
  EventSchema,
  DecisionSchema,
  ViewEvent,
  ClickEvent,
  CartEvent,
  PurchaseEvent,
  VisitEvent,
  SendEvent,
  InventoryEvent,
  StockEvent,
  AllowanceEvent,
  SyncEvent,
  PromotionEvent,
  ModeEvent,
  POLICY_MODES,
  INTERNAL_EVENT_TYPES,
  CHANNELS,
  EVENT_TYPES,
  EXCLUSION_REASONS,
  DECISION_POINTS,
  OutcomeSchema,
  OUTCOME_CLOSES,
} from "./schema.ts";
export type { PolicyMode, ShopEvent, CustomerEvent, InternalEvent, DecisionPointEvent, EventType, Decision, Channel, ExclusionReason, DecisionPoint, OutcomeRecord } from "./schema.ts";
export { decodeEvent, checkEvent, encodeEvent, encodeDecision, decodeDecision, isValidDecision, encodeOutcome, isValidOutcome } from "./codec.ts";
export type { Decoded } from "./codec.ts";
export { PS_ERR_EVENT, PS_ERR_SEGMENT } from "./errors.ts";
export type { DeadLetterReason, SegmentRejectReason } from "./errors.ts";
export { NO_DECISION, answerKey, eventIdOfAnswerKey, answerPublish } from "./answer.ts";
export type { DecideAnswer } from "./answer.ts";
export { mapSegment, mapSegmentCall, isSegmentBatch, tallySegment, emptySegmentTally, addSegmentTally, dollarsToCents, parseIsoTime, SEGMENT_IGNORED_KINDS, SEGMENT_MAPPED_EVENTS } from "./segment.ts";
export type { SegmentResult, SegmentOptions, SegmentIgnoredKind, SegmentTally } from "./segment.ts";
export { fitId, copyId } from "./ids.ts";
export { fitDecision } from "./fit.ts";
export { Subjects, partitionOf, fnv1a32, subjectToken, PARTITIONED_TYPES, type PartitionedType } from "./subjects.ts";
export { offerApplies, offerQuantity, offerDiscountCents, marginIfBoughtCents, DEFAULT_BUNDLE_QUANTITY } from "./offer.ts";
export type { OfferTerms, ProductTerms } from "./offer.ts";
export type { Routed } from "./subjects.ts";
export { PromotionSchema, promotionIssues, promotionSchemaIssues, describeIssues, RESERVED_PROMOTION_ID } from "./promotion.ts";
export type { PromotionConfig, PromotionIssue } from "./promotion.ts";
