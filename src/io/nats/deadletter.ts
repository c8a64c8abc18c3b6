import { PARTITIONED_TYPES, PS_ERR_EVENT, type DeadLetterReason, type Subjects } from "../../events/index.ts";
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
    /** Resolves true when the stream already held a dead letter of that msg id (a duplicate: not counted again). */
    private readonly publish: (subject: string, data: Uint8Array, msgID: string | undefined, hdrs: Record<string, string>) => Promise<void | boolean>,
    private readonly subjects: Subjects,
    private readonly metrics: Metrics,
    log: Logger,
    private readonly keepBytes = 4096,
  ) {
    this.once = new OncePerKind(log);
  }

  /**
   * `original.msgId`, for a message that has no stream sequence (refused at the HTTP door): what makes the
   * same message refused again (a client's retry of its batch) land once, and be counted once.
   */
  /**
   * `original.foreign`: on a subject of promo-stream's own events, but no part of this deployment
   * publishes it (a stock, allowance or sync event where no partitions are in use): another producer's.
   */
  async send(reason: DeadLetterReason, detail: string, original: { subject: string; data: Uint8Array; seq?: number; eventId?: string; msgId?: string; foreign?: boolean }, nowMs: number): Promise<void> {
    const count = () => {
      this.counts[reason] = (this.counts[reason] ?? 0) + 1;
      this.metrics.deadLetters.inc({ reason });
    };
    // A redelivered message (seq) is counted at once, as always; one with its own msg id once the stream
    // says it did not have it already.
    const countStored = original.seq === undefined && original.msgId !== undefined;
    if (!countStored) count();
    const type = this.subjects.typeOf(original.subject);
    const own = type !== undefined && (PARTITIONED_TYPES as readonly string[]).includes(type) ? type : undefined;
    const fields = { reason, detail, subject: original.subject, seq: original.seq };
    if (own && original.foreign)
      // Not ours to blame: the schema took it, but nothing in this deployment sends it. A warning once
      // per type, apart from the shop's other bad events, so the first forged grant or count is seen.
      this.once.warn(
        `deadletter:${reason}:${own}:foreign`,
        fields,
        `a ${own} event dead-lettered: only partitioned processors publish these, and this processor reads the whole stream, so another producer sent it (or a partitioned deployment that used this stream before); not applied`,
      );
    // Refused by the engine's intake after the schema took it (a stock copy is checked as the shop's events are).
    else if (own && reason === PS_ERR_EVENT.Duplicate)
      // A copy published again under its id after EVENTS' duplicate window (an inventory consumer made
      // again re-publishes the copies of what it handled): the first one was applied, this one is not.
      this.once.warn(`deadletter:${reason}:${own}`, fields, `promo-stream's own ${own} event dead-lettered: an event with its id was already handled (a copy published again after the stream's duplicate window); nothing is lost`);
    else if (own && (reason === PS_ERR_EVENT.Late || reason === PS_ERR_EVENT.FarFuture))
      this.once.error(`deadletter:${reason}:${own}`, fields, `promo-stream's own ${own} event dead-lettered: its time is outside what the engine admits (features.allowedLatenessSec, features.maxFutureSkewSec); the partition goes on without it`);
    else if (own)
      // An event promo-stream published itself (a partition's sync, stock or allowance, a promotion or
      // mode change) refused by the schema is no shop's bad input: instances of different versions share
      // the streams, or the event's builder and its schema disagree (as sync events once did, issue 21).
      // Said at error level, once per type, so it is not lost behind the shop's own bad events.
      this.once.error(
        `deadletter:${reason}:${own}`,
        fields,
        `promo-stream's own ${own} event dead-lettered: this processor's event schema refuses what another part of promo-stream published (different versions, or a bug); the partition goes on without it`,
      );
    else this.once.warn(`deadletter:${reason}`, fields, "event dead-lettered");
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
    const msgID = original.seq !== undefined ? `dl-${original.seq}` : original.msgId;
    let duplicate = false;
    try {
      duplicate = (await this.publish(this.subjects.deadletter, new TextEncoder().encode(JSON.stringify(dl)), msgID, { "Ps-Reason": reason })) === true;
    } finally {
      if (countStored && !duplicate) count();
    }
  }
}
