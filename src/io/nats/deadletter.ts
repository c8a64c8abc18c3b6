import type { DeadLetterReason } from "../../events/index.ts";
import { OncePerKind, type Logger } from "../../log/index.ts";
import type { Metrics } from "../../metrics/index.ts";

/** What the DEADLETTER stream holds for one bad message: the reason and enough to inspect it. */
export interface DeadLetter {
  reason: DeadLetterReason;
  detail: string;
  subject: string;
  streamSeq: number | null;
  eventId: string | null;
  /** Wall-clock time it was dead-lettered. */
  at: number;
  payloadBytes: number;
  /** The original payload, base64, cut at `keepBytes`. */
  payloadBase64: string;
  truncated: boolean;
}

/** Publishes bad messages with their reason to deadletter.events; counts them; logs each reason once. */
export class DeadLetters {
  private readonly once: OncePerKind;
  readonly counts: Record<string, number> = {};
  constructor(
    private readonly publish: (subject: string, data: Uint8Array, msgID: string | undefined, hdrs: Record<string, string>) => Promise<void>,
    private readonly subject: string,
    private readonly metrics: Metrics,
    log: Logger,
    private readonly keepBytes = 4096,
  ) {
    this.once = new OncePerKind(log);
  }

  async send(reason: DeadLetterReason, detail: string, original: { subject: string; data: Uint8Array; seq?: number; eventId?: string }, nowMs: number): Promise<void> {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    this.metrics.deadLetters.inc({ reason });
    this.once.warn(`deadletter:${reason}`, { reason, detail, subject: original.subject, seq: original.seq }, "event dead-lettered");
    const dl: DeadLetter = {
      reason,
      detail,
      subject: original.subject,
      streamSeq: original.seq ?? null,
      eventId: original.eventId ?? null,
      at: nowMs,
      payloadBytes: original.data.byteLength,
      payloadBase64: Buffer.from(original.data.subarray(0, this.keepBytes)).toString("base64"),
      truncated: original.data.byteLength > this.keepBytes,
    };
    // The id makes a redelivered bad message land once: the stream's duplicate window drops the copy.
    const msgID = original.seq !== undefined ? `dl-${original.seq}` : undefined;
    await this.publish(this.subject, new TextEncoder().encode(JSON.stringify(dl)), msgID, { "Ps-Reason": reason });
  }
}
