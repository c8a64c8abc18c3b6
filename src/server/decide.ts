// Decide in one call (issue 22): POST /api/decide and the request/reply subject decide.<channel> take one
// event that can be a decision point and answer with its decision. The event goes into EVENTS like every
// other (msg id = its id), marked `decide: true`; the processor that handles it, wherever it runs, stores
// the answer in the KV bucket PS_ANSWERS through its publish-and-ack queue (src/events/answer.ts), and
// this service hears it on the bucket's subject. The log stays the one source of truth, so replay, crash
// recovery and exactly-once hold as they are, and a retry under the same event id answers the same
// decision: the stream drops the copy and the answer is read from the bucket (or awaited).
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { LRUCache } from "lru-cache";
import type { Config } from "../config/index.ts";
import { answerKey, checkEvent, CHANNELS, encodeEvent, eventIdOfAnswerKey, NO_DECISION, Subjects, type Channel, type DecideAnswer, type ShopEvent } from "../events/index.ts";
import { PipelinedPublisher, retryTransient } from "../io/nats/index.ts";
import { Admission } from "./admission.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";

/** The event types that can be decision points. */
const DECIDABLE: ReadonlySet<string> = new Set(["view", "cart", "send", "visit"]);
/** Answers remembered in memory (each ~1 KB), so a retry soon after is answered without a KV read. */
const RECENT_ANSWERS = 20_000;
/** What an overloaded caller is told to wait before trying again. */
const RETRY_AFTER_SEC = 1;

export type DecideResult =
  | { status: 200; body: DecideAnswer }
  | { status: 400; body: { error: string } }
  | { status: 503; body: { error: string }; retryAfterSec: number };

type DecideOutcome = "decided" | "no-decision" | "timeout" | "invalid" | "shed" | "unavailable";

interface Waiter {
  resolve(a: DecideAnswer): void;
}

export class DecideService {
  private readonly subjects: Subjects;
  private readonly publisher: PipelinedPublisher;
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly recent: LRUCache<string, DecideAnswer>;
  private readonly subs: Subscription[] = [];
  private readonly enc = new TextEncoder();
  private kv: KV | undefined;
  private inFlight = 0;
  private readonly admission = new Admission();

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** The shop's current time, for an event sent without `ts` (the simulator's clock in a simulated shop). */
    private readonly shopNowMs: () => number,
  ) {
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.publisher = new PipelinedPublisher(nc, cfg.decide.maxInFlight, 5_000);
    this.recent = new LRUCache({ max: RECENT_ANSWERS, ttl: cfg.decide.answerTtlSec * 1000 });
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    const bucket = this.cfg.kv.answersBucket;
    const prefix = `$KV.${bucket}.`;
    this.subs.push(
      this.nc.subscribe(`${prefix}>`, {
        callback: (err, m) => {
          if (err || m.data.length === 0) return;
          try {
            this.onAnswer(eventIdOfAnswerKey(m.subject.slice(prefix.length)), m.json<DecideAnswer>());
          } catch (e) {
            this.log.warn({ err: (e as Error).message, subject: m.subject }, "unreadable decide answer");
          }
        },
      }),
      // One answer per request across several servers: a queue group.
      this.nc.subscribe(this.subjects.decideAll, {
        queue: "promo-stream-decide",
        callback: (err, m) => {
          if (err) return;
          const channel = m.subject.slice(m.subject.lastIndexOf(".") + 1);
          let body: unknown;
          try {
            body = m.json();
          } catch {
            m.respond(this.enc.encode(JSON.stringify({ status: 400, error: "body must be one event as JSON" })));
            return;
          }
          void this.decide(body, channel).then((r) => m.respond(this.enc.encode(JSON.stringify(r.status === 200 ? r.body : { status: r.status, ...r.body, ...("retryAfterSec" in r ? { retryAfterSec: r.retryAfterSec } : {}) }))));
        },
      }),
    );
    this.kv = await retryTransient("opening the answers bucket", () => new Kvm(this.nc).open(bucket), this.log);
    this.admission.start();
  }

  stop(): void {
    this.admission.stop();
    for (const s of this.subs.splice(0)) s.unsubscribe();
    this.publisher.close();
    for (const [, ws] of this.waiting) for (const w of ws) w.resolve({ decision: null, reason: NO_DECISION.Timeout });
    this.waiting.clear();
  }

  /**
   * One event in, its answer out: 200 with the decision or why there is none (not-a-decision-point, a
   * dead-letter reason, or timeout after decide.timeoutMs), 400 naming the field of a malformed event,
   * 503 at once when decide.maxInFlight requests already wait. `channel` is the subject's token on NATS.
   */
  async decide(raw: unknown, channel?: string): Promise<DecideResult> {
    const t0 = performance.now();
    const r = await this.decideOnce(raw, channel);
    if (r.status === 200) this.admission.answeredWith(r.body.reason === NO_DECISION.Timeout);
    const outcome: DecideOutcome =
      r.status === 400 ? "invalid" : r.status === 503 ? (r.body.error.startsWith("too many") ? "shed" : "unavailable") : r.body.decision ? "decided" : r.body.reason === NO_DECISION.Timeout ? "timeout" : "no-decision";
    this.metrics.decideRequests.inc({ outcome });
    this.metrics.decideSeconds.observe((performance.now() - t0) / 1000);
    return r;
  }

  private async decideOnce(raw: unknown, channel: string | undefined): Promise<DecideResult> {
    const checked = this.check(raw, channel);
    if ("error" in checked) return { status: 400, body: { error: checked.error } };
    const ev = checked.event;
    // A retry of an event already answered costs nothing: answered from memory, never shed.
    const answered = this.recent.get(ev.id);
    if (answered) return { status: 200, body: answered };
    // Shed at once, before anything is published: a request refused here cost the event path nothing.
    if (this.inFlight >= this.cfg.decide.maxInFlight)
      return { status: 503, body: { error: `too many decide requests in flight (decide.maxInFlight ${this.cfg.decide.maxInFlight}); retry after ${RETRY_AFTER_SEC} s` }, retryAfterSec: RETRY_AFTER_SEC };
    if (!this.admission.admit())
      return { status: 503, body: { error: `too many decide requests: recent ones timed out or the server is saturated, ${Math.round(this.admission.shedShare * 100)}% are refused now; retry after ${RETRY_AFTER_SEC} s` }, retryAfterSec: RETRY_AFTER_SEC };
    this.inFlight++;
    try {
      const deadline = Date.now() + this.cfg.decide.timeoutMs;
      const answer = this.awaitAnswer(ev.id);
      // Never wait for room in the publisher's window: it is full only when NATS has not acknowledged
      // decide.maxInFlight publishes (away, or stalled), and room comes back only when they fail after
      // the publish timeout (5 s), far past this request's deadline. Nothing is published: say so.
      const acked = this.publisher.tryPublish(this.subjects.forEvent(ev, this.cfg.partitions), encodeEvent(ev), ev.id);
      if (!acked) {
        answer.cancel();
        return { status: 503, body: { error: `the event could not be stored: NATS has not acknowledged the last ${this.publisher.pending} decide events; retry after ${RETRY_AFTER_SEC} s` }, retryAfterSec: RETRY_AFTER_SEC };
      }
      const stored = await settleBy(acked, deadline);
      if (stored === undefined) return { status: 200, body: (await settleBy(answer.promise, deadline)) ?? answer.timeout() };
      if (!stored.ok) {
        answer.cancel();
        return { status: 503, body: { error: `the event could not be stored (${stored.error.code}): ${stored.error.message}` }, retryAfterSec: RETRY_AFTER_SEC };
      }
      // Sent before (a retry): its answer may be in the bucket already.
      if (stored.duplicate) void this.lookUp(ev.id);
      // Halfway to the deadline with no answer: one look in the bucket, still inside the deadline. An
      // event the processor had handled before (a retry stored again after EVENTS' duplicate window,
      // sent to a server that did not hear the first answer) gets no new answer: its first one is
      // there. The look used to come after the deadline and could hold a timeout 200 ms past it (four
      // times the default 50 ms).
      const got = await settleBy(answer.promise, deadline - this.cfg.decide.timeoutMs / 2);
      if (got) return { status: 200, body: got };
      if (!stored.duplicate) void this.lookUp(ev.id);
      return { status: 200, body: (await settleBy(answer.promise, deadline)) ?? answer.timeout() };
    } finally {
      this.inFlight--;
    }
  }

  /** A decidable event, stamped and marked, or what is wrong with it (naming the field). */
  private check(raw: unknown, channel: string | undefined): { event: ShopEvent } | { error: string } {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { error: "body must be one event as a JSON object" };
    const type = (raw as { type?: unknown }).type;
    if (typeof type !== "string" || !DECIDABLE.has(type)) return { error: `/type: must be one of ${[...DECIDABLE].join(", ")} (the events that can be decision points)` };
    const o: Record<string, unknown> = { ...(raw as Record<string, unknown>), decide: true };
    if (o.ts === undefined) o.ts = Math.round(this.shopNowMs());
    const c = checkEvent(o);
    if (!c.ok) return { error: c.detail };
    const ev = c.value;
    const evChannel: Channel = ev.type === "send" ? ev.channel : "web";
    if (channel !== undefined && channel !== evChannel)
      return { error: (CHANNELS as readonly string[]).includes(channel) ? `/channel: a ${ev.type} event is decided on ${evChannel}, not on ${channel}` : `subject: unknown channel ${JSON.stringify(channel)}; use one of ${CHANNELS.join(", ")}` };
    return { event: ev };
  }

  /** Waits for an event's answer; several requests for the same id share it. */
  private awaitAnswer(id: string): { promise: Promise<DecideAnswer>; cancel(): void; timeout(): DecideAnswer } {
    let waiter!: Waiter;
    const promise = new Promise<DecideAnswer>((resolve) => (waiter = { resolve }));
    const list = this.waiting.get(id);
    if (list) list.push(waiter);
    else this.waiting.set(id, [waiter]);
    const cancel = () => {
      const ws = this.waiting.get(id);
      if (!ws) return;
      const i = ws.indexOf(waiter);
      if (i >= 0) ws.splice(i, 1);
      if (!ws.length) this.waiting.delete(id);
    };
    return {
      promise,
      cancel,
      timeout: () => {
        cancel();
        return { decision: null, reason: NO_DECISION.Timeout };
      },
    };
  }

  /** The event's stored answer, if the bucket has one (it is also handed to whoever waits for it). */
  private async lookUp(id: string): Promise<DecideAnswer | undefined> {
    try {
      const e = await this.kv?.get(answerKey(id));
      if (!e || e.operation !== "PUT" || !e.value.length) return undefined;
      const a = e.json<DecideAnswer>();
      this.onAnswer(id, a);
      return a;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "reading a decide answer failed");
      return undefined;
    }
  }

  private onAnswer(id: string, a: DecideAnswer): void {
    this.recent.set(id, a);
    const ws = this.waiting.get(id);
    if (!ws) return;
    this.waiting.delete(id);
    for (const w of ws) w.resolve(a);
  }
}

/** The promise's value if it settles by `deadlineMs`, else undefined. */
async function settleBy<T>(p: Promise<T>, deadlineMs: number): Promise<T | undefined> {
  const left = deadlineMs - Date.now();
  if (left <= 0) return Promise.race([p, Promise.resolve(undefined)]);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), left)))]);
  } finally {
    clearTimeout(timer);
  }
}
