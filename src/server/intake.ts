// Events in over HTTP (issue 22): POST /api/events (the contract's events) and POST /api/track (the
// shop's own tracking, mapped to them) publish each event into EVENTS under its id, as any producer
// does, and say per event what became of it: accepted, duplicate (the stream already held that id), or
// rejected with its reason. A rejected event is also dead-lettered, as the processor does with a bad one.
import { createHash } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { checkEvent, encodeEvent, INTERNAL_EVENT_TYPES, PS_ERR_EVENT, Subjects, type DeadLetterReason } from "../events/index.ts";
import { DeadLetters, PipelinedPublisher } from "../io/nats/index.ts";
import { OncePerKind, type Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";

export type IntakeResult =
  | { id: string; status: "accepted" | "duplicate" }
  | { id: string | null; status: "rejected"; reason: string; detail: string };

/** Where a dead letter of an event refused at the door says it came from. */
const DOOR = "http";

/**
 * The msg id of the dead letter of an event (or tracking call) refused at the door: a client resends its
 * whole batch after a 503 or no answer, and each resend dead-lettered (and counted) the refused ones again,
 * where the accepted ones come back "duplicate". The id is the item's own (as for the events stored), with
 * the reason; hashed, since a refused item's id may be anything (too long, no id's characters).
 */
function doorMsgId(reason: string, id: string): string {
  return `dl-${DOOR}-${createHash("sha256").update(`${reason}\u0000${id}`).digest("hex").slice(0, 32)}`;
}

/** The reason of an event the stream did not store (NATS away): the batch is answered 503, to be sent again. */
export const NOT_STORED = "unavailable";

export class EventIntake {
  private readonly subjects: Subjects;
  private readonly publisher: PipelinedPublisher;
  private readonly deadLetters: DeadLetters;
  private readonly enc = new TextEncoder();
  private readonly once: OncePerKind;

  constructor(
    nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    metrics: Metrics,
    log: Logger,
    /** Whether the connection to NATS is up now (the server follows its status). */
    private readonly connected: () => boolean = () => !nc.isClosed(),
  ) {
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.once = new OncePerKind(log);
    this.publisher = new PipelinedPublisher(nc, 1_000, 5_000);
    this.deadLetters = new DeadLetters(
      async (subject, data, msgID, hdrs) => {
        const r = await (await this.publisher.publish(subject, data, msgID, hdrs)).acked;
        if (!r.ok) throw r.error;
        return r.duplicate;
      },
      this.subjects,
      metrics,
      log,
    );
  }

  /**
   * Checks and publishes each item, in order; one result per item. Never throws for a bad item. An
   * event without `ts` is stamped with `nowMs` (the shop's time) when given.
   */
  async submit(items: readonly unknown[], nowMs?: number): Promise<IntakeResult[]> {
    const pending = items.map(async (raw): Promise<IntakeResult> => {
      const item = nowMs !== undefined && typeof raw === "object" && raw !== null && !Array.isArray(raw) && (raw as { ts?: unknown }).ts === undefined ? { ...raw, ts: nowMs } : raw;
      const c = checkEvent(item);
      const id = typeof (item as { id?: unknown })?.id === "string" ? ((item as { id: string }).id) : null;
      if (!c.ok) return this.reject(item, id, c.reason, c.detail);
      const ev = c.value;
      if ((INTERNAL_EVENT_TYPES as readonly string[]).includes(ev.type) || ev.type === "promotion" || ev.type === "mode")
        return this.reject(
          item,
          id,
          PS_ERR_EVENT.Invalid,
          ev.type === "promotion" ? "/type: promotions change through promo.control (README: Changing promotions at runtime)" : ev.type === "mode" ? '/type: the policy\'s mode changes through promo.control ({"op":"mode",…})' : `/type: ${ev.type} events are the processors' own`,
        );
      // NATS away: nothing would acknowledge the publish before its timeout (5 s); say so at once.
      if (!this.connected()) return { id: ev.id, status: "rejected", reason: NOT_STORED, detail: "not stored: NATS is disconnected; send it again with the same id" };
      const { acked } = await this.publisher.publish(this.subjects.forEvent(ev, this.cfg.partitions), encodeEvent(ev), ev.id);
      const stored = await acked;
      if (!stored.ok) return { id: ev.id, status: "rejected", reason: NOT_STORED, detail: `not stored (${stored.error.code}): ${stored.error.message}; send it again with the same id` };
      return { id: ev.id, status: stored.duplicate ? "duplicate" : "accepted" };
    });
    return Promise.all(pending);
  }

  /** Dead-letters something refused before it became an event (a tracking call that cannot map), with its reason. */
  async refuse(item: unknown, id: string | null, reason: string, detail: string): Promise<IntakeResult> {
    return this.reject(item, id, reason as DeadLetterReason, detail);
  }

  private async reject(item: unknown, id: string | null, reason: DeadLetterReason, detail: string): Promise<IntakeResult> {
    let data: Uint8Array;
    try {
      data = this.enc.encode(JSON.stringify(item) ?? "null");
    } catch {
      data = new Uint8Array(0);
    }
    // The caller hears "rejected" either way; a dead letter the stream did not take is said once per kind.
    const sent = this.deadLetters
      .send(reason, detail, { subject: DOOR, data, ...(id ? { eventId: id, msgId: doorMsgId(reason, id) } : {}) }, Date.now())
      .catch((err: Error) => this.once.warn(`deadletter:${(err as { code?: string }).code ?? "error"}`, { err: err.message }, "a refused event's dead letter was not stored"));
    // NATS away: nothing acknowledges the dead letter before the publish timeout (5 s), and waiting for it
    // held the whole batch's answer (its 503 for the events not stored) past the client's 5 s deadline.
    if (this.connected()) await sent;
    return { id, status: "rejected", reason, detail };
  }

  close(): void {
    this.publisher.close();
  }
}
