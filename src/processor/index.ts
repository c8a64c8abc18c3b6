export { Processor } from "./processor.ts";
export type { ProcessorOptions } from "./processor.ts";
export type { ProcessorSnapshot, ProcessorHealth, ProcessorState } from "./types.ts";
export { PublishAckQueue } from "./publish-queue.ts";
export type { QueuedPublish, WindowedPublisher, Ackable, PublishAckQueueOptions } from "./publish-queue.ts";
export { ProcessorError, PublishesFailedError, PS_ERR_PROCESSOR } from "./errors.ts";
export type { ProcessorErrorCode } from "./errors.ts";
export { PromotionControl } from "./control.ts";
export type { PromoControlReply, PromoControlRequest, PromotionControlOptions } from "./control.ts";
