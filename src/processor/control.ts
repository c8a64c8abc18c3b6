// promo.control: how people (and the simulator) add or change a promotion at runtime. A change is not
// applied here: it becomes an event in the log (`events.promotion.<partition>`, one per partition) and
// every engine applies it where it stands among the shop's events, so a restore plus a replay sees it
// at the same place (issue 15). The request is decoded by the same function the processor decodes the
// log with, which checks a promotion by the configuration's rules: a bad one is refused with the
// reason, in the reply and in the dead-letter stream, and nothing is published.
import { nuid, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { copyId, decodeEvent, encodeEvent, POLICY_MODES, promotionSchemaIssues, PS_ERR_EVENT, Subjects, type DeadLetterReason, type PolicyMode, type PromotionConfig, type Routed } from "../events/index.ts";
import { DeadLetters, retryWithBackoff, type PipelinedPublisher, type PublishError } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";

export type PromoControlRequest = { op: "upsert"; promotion: PromotionConfig } | { op: "list" } | { op: "mode"; mode: PolicyMode };

export type PromoControlReply =
  | { ok: true; promotions: string[] }
  /** The change is stored in the log: `events` copies under `changeId`; engines apply it in order. */
  | { ok: true; changeId: string; events: number }
  /** unavailable: this process cannot answer a question about the engine's state (ask again: another instance may). */
  | { ok: false; reason: DeadLetterReason | "not-stored" | "unavailable"; error: string };

/** A mode change stored ({"op":"mode","mode":…}), or the mode now ({"op":"mode"}). */
export type ModeReply = { ok: true; mode: PolicyMode; changeId?: string; events?: number };

export interface PromotionControlOptions {
  /** One copy per partition. */
  partitions: number;
  /** The processor's limit on an event's size: a change the processor would refuse is refused here. */
  maxEventBytes: number;
  /**
   * The promotions the engine knows now (for {"op":"list"}); a string when this process cannot tell
   * (a partitioned instance holding no partition runs no engine): the reply's error.
   */
  list: () => string[] | string;
  /** The policy's mode now (for {"op":"mode"} without a mode); a string when this process cannot tell, as list. */
  mode?: () => PolicyMode | string;
}

const enc = new TextEncoder();

export class PromotionControl {
  private sub: Subscription | undefined;
  /** Requests are handled one at a time, so the copies of two changes never interleave in the log. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly deadLetters: DeadLetters;

  constructor(
    private readonly nc: NatsConnection,
    private readonly publisher: PipelinedPublisher,
    private readonly subjects: Subjects,
    private readonly opts: PromotionControlOptions,
    metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.deadLetters = new DeadLetters(
      async (subject, data, msgID, hdrs) => {
        const r = await (await this.publisher.publish(subject, data, msgID, hdrs)).acked;
        if (!r.ok) this.log.error({ err: r.error.message, code: r.error.code }, "refused promotion change not dead-lettered");
      },
      subjects,
      metrics,
      log,
    );
  }

  start(): void {
    // A queue group: with several instances (partitioned), one of them takes each request; any of
    // them publishes to every partition.
    this.sub = this.nc.subscribe(this.subjects.promoControl, {
      queue: "promo-control",
      callback: (err, m) => {
        if (err) return;
        const data = m.data;
        this.turn = this.turn.then(async () => {
          const reply = await this.handle(data, Date.now()).catch((e: Error): PromoControlReply => ({ ok: false, reason: "not-stored", error: e.message }));
          if (m.reply) m.respond(enc.encode(JSON.stringify(reply)));
        });
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  /** Waits for the requests under way. */
  async drain(): Promise<void> {
    await this.turn;
  }

  /** One request: {"op":"list"}, {"op":"upsert","promotion":{…}}, or {"op":"mode","mode":"apprentice"|"conservative"|"learner"}. */
  async handle(data: Uint8Array, nowMs: number): Promise<PromoControlReply | ModeReply> {
    let req: { op?: unknown; promotion?: unknown; mode?: unknown };
    try {
      req = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data)) as typeof req;
    } catch (err) {
      return this.refuse(PS_ERR_EVENT.NotJson, `request is not JSON: ${(err as Error).message}`, data);
    }
    if (req?.op === "list") {
      const promotions = this.opts.list();
      return typeof promotions === "string" ? { ok: false, reason: "unavailable", error: promotions } : { ok: true, promotions };
    }
    if (req?.op === "mode") return this.changeMode(req.mode, data, nowMs);
    if (req?.op !== "upsert") return this.refuse(PS_ERR_EVENT.Invalid, 'op must be "upsert" (with a promotion), "list" or "mode" (with a mode)', data);
    // Every problem at once, each with its fix, as start-up reports a configured promotion: the decode
    // below names only the first, as a JSON pointer ("/promotion/name: Expected required property").
    const schemaIssues = promotionSchemaIssues(req.promotion);
    if (schemaIssues.length) {
      let hinted = false;
      const detail = schemaIssues
        .map((i) => {
          const hint = i.problem === "missing" && !hinted ? ((hinted = true), " (an upsert carries the whole promotion)") : "";
          return `promotion.${i.field}: ${i.problem}${hint}; fix: ${i.fix}`;
        })
        .join("; ");
      return this.refuse(PS_ERR_EVENT.Invalid, detail, data);
    }
    const changeId = `promo-${nuid.next()}`;
    // The last copy (the longest id: a promotion that fits it fits every partition's), decoded exactly
    // as the processor will decode it from the log.
    const last = encodeEvent({ type: "promotion", id: copyId(changeId, "p", this.opts.partitions - 1), ts: nowMs, promotion: req.promotion as PromotionConfig });
    const decoded = decodeEvent(last, this.opts.maxEventBytes);
    if (!decoded.ok) return this.refuse(decoded.reason, decoded.detail, data);
    if (decoded.value.type !== "promotion") return this.refuse(PS_ERR_EVENT.Invalid, "not a promotion", data);
    const copies = this.subjects.promotionChange(decoded.value.promotion, changeId, nowMs, this.opts.partitions);
    const stored = await this.store(copies, changeId, "promotion change");
    if (!stored.ok) return stored;
    this.log.info({ promotion: decoded.value.promotion.id, changeId, events: copies.length }, "promotion change stored in the log");
    return { ok: true, changeId, events: copies.length };
  }

  /**
   * A person changes the policy's mode (issue 23: graduate an apprentice by hand, or send the engine
   * back to apprentice): like a promotion change, a `mode` event per partition in the log, applied by
   * every engine where it stands. Without a mode, the reply says the current one.
   */
  private async changeMode(mode: unknown, data: Uint8Array, nowMs: number): Promise<PromoControlReply | ModeReply> {
    if (mode === undefined && this.opts.mode) {
      const now = this.opts.mode();
      return (POLICY_MODES as readonly string[]).includes(now) ? { ok: true, mode: now as PolicyMode } : { ok: false, reason: "unavailable", error: now };
    }
    if (typeof mode !== "string" || !(POLICY_MODES as readonly string[]).includes(mode)) return this.refuse(PS_ERR_EVENT.Invalid, `mode must be one of ${POLICY_MODES.join(", ")}`, data);
    const changeId = `mode-${nuid.next()}`;
    const copies = this.subjects.modeChange({ mode: mode as PolicyMode, reason: "manual" }, changeId, nowMs, this.opts.partitions);
    const stored = await this.store(copies, changeId, "mode change");
    if (!stored.ok) return stored;
    this.log.info({ mode, changeId, events: copies.length }, "policy mode change stored in the log");
    return { ok: true, changeId, events: copies.length, mode: mode as PolicyMode };
  }

  /** Publishes a change's copies, retrying the ones not stored; a reply when not all were. */
  private async store(copies: Routed[], changeId: string, what: string): Promise<{ ok: true } | PromoControlReply> {
    let todo = copies;
    try {
      await retryWithBackoff(
        async () => {
          const results = await Promise.all(todo.map(async (c) => (await this.publisher.publish(c.subject, encodeEvent(c.event), c.event.id)).acked));
          const failed: PublishError[] = [];
          todo = todo.filter((_, i) => {
            const r = results[i]!;
            if (!r.ok) failed.push(r.error);
            return !r.ok;
          });
          if (failed.length) throw failed[0]!;
        },
        { retry: (_err, attempt) => attempt < 4 },
      );
    } catch (err) {
      // The copies stored are the same change; a retry of the request stores it under a new id.
      this.log.error({ err: (err as Error).message, changeId, stored: copies.length - todo.length, of: copies.length }, `${what} not stored in full`);
      return { ok: false, reason: "not-stored", error: `${todo.length} of ${copies.length} events not stored: ${(err as Error).message}; ask again` };
    }
    return { ok: true };
  }

  private async refuse(reason: DeadLetterReason, detail: string, data: Uint8Array): Promise<PromoControlReply> {
    await this.deadLetters.send(reason, detail, { subject: this.subjects.promoControl, data }, Date.now());
    return { ok: false, reason, error: detail };
  }
}
