import type { PublishError } from "../io/nats/index.ts";

export const PS_ERR_PROCESSOR = {
  /** Publishes of a batch still failed when the queue gave up (only while stopping). */
  PublishesFailed: "PS_ERR_PROCESSOR_PUBLISHES_FAILED",
  /** The processor's consumer, found missing, was there again when it came to make it: someone else made it. */
  ConsumerTaken: "PS_ERR_PROCESSOR_CONSUMER_TAKEN",
} as const;
export type ProcessorErrorCode = (typeof PS_ERR_PROCESSOR)[keyof typeof PS_ERR_PROCESSOR];

export class ProcessorError extends Error {
  readonly code: ProcessorErrorCode;
  constructor(code: ProcessorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProcessorError";
    this.code = code;
  }
}

/** Publishes that were not stored, each with its own cause (they may fail for different reasons). */
export class PublishesFailedError extends ProcessorError {
  constructor(readonly failures: readonly PublishError[]) {
    const codes = [...new Set(failures.map((f) => f.code))].join(", ");
    super(PS_ERR_PROCESSOR.PublishesFailed, `${failures.length} publishes not stored (${codes}); first: ${failures[0]?.message ?? "?"}`, { cause: failures[0] });
    this.name = "PublishesFailedError";
  }
}
