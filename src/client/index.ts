// promo-stream/client (issue 22): a storefront's door to promo-stream over HTTP, for Node and browsers
// (fetch only, no dependencies at run time). decide() asks for the decision at a decision point and
// answers within a deadline; send() and track() hand events in. Every call keeps its event ids across
// retries, so a retry is never a second event and never a second decision: the stream drops the copy and
// the server answers the decision it already has.
import type { CartEvent, ClickEvent, PurchaseEvent, SendEvent, ViewEvent, VisitEvent } from "../events/schema.ts";
import type { Static } from "@sinclair/typebox";
import type { DecideAnswer } from "../events/answer.ts";

export type { DecideAnswer } from "../events/answer.ts";
export type { Decision } from "../events/schema.ts";

type Loose<T> = Omit<T, "id" | "ts"> & { id?: string; ts?: number };
/** An event that can be a decision point, as decide() takes it: `id` and `ts` may be left to the client and the server. */
export type DecideEvent = Loose<Static<typeof ViewEvent>> | Loose<Static<typeof CartEvent>> | Loose<Static<typeof SendEvent>> | Loose<Static<typeof VisitEvent>>;
/** Any shopper event, as send() takes it (the JSON Schema at /api/schema/event.json). */
export type ShopEventInput = DecideEvent | Loose<Static<typeof ClickEvent>> | Loose<Static<typeof PurchaseEvent>>;
/** One Segment call (e-commerce spec v2), as track() takes it. */
export type SegmentCall = { type: string; event?: string; messageId?: string; userId?: string; anonymousId?: string; timestamp?: string; properties?: Record<string, unknown>; [k: string]: unknown };

export interface EventResult {
  id: string | null;
  status: "accepted" | "duplicate" | "rejected";
  reason?: string;
  detail?: string;
}
export interface EventsAnswer {
  accepted: number;
  duplicate: number;
  rejected: number;
  results: EventResult[];
}

/**
 * One Segment call's answer from track(), `index` its place in the batch: `mapped` (the event it became,
 * the fields the contract could not hold, and `stored` as send()'s status), `ignored` (a call kind or
 * event not mapped: identify, page, …) or `rejected` (with its reason; dead-lettered).
 */
export type TrackCallAnswer =
  | { index: number; status: "mapped"; messageId: string; eventId: string; type: string; eventIndex: number; dropped: string[]; stored: EventResult["status"]; reason?: string; detail?: string }
  | { index: number; status: "ignored"; messageId?: string; kind: string; name?: string }
  | { index: number; status: "rejected"; messageId?: string; reason: string; detail: string };
export interface TrackAnswer {
  /** Events stored, stored before (a resent call), and refused (a call that could not map, or an event not stored). */
  accepted: number;
  duplicate: number;
  rejected: number;
  /** Calls ignored by kind (README "Tracking events from the shop"). */
  ignored: number;
  results: TrackCallAnswer[];
}

export interface ClientOptions {
  /** Where promo-stream's server answers, e.g. http://127.0.0.1:8080/ */
  baseUrl: string;
  /** API_TOKEN, when the server has one. */
  token?: string;
  /** Another fetch (tests, a proxy); the global one by default. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** The whole call, retries included, ends by then (ms from now): decide() 250, send() and track() 5,000. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** A call that could not be answered within its deadline, or that the server refused. */
export class PromoStreamError extends Error {
  constructor(
    readonly code: "PS_ERR_CLIENT_DEADLINE" | "PS_ERR_CLIENT_REFUSED" | "PS_ERR_CLIENT_AUTH",
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PromoStreamError";
  }
}

const RETRY_PAUSE_MS = 25;

export class PromoStreamClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.endsWith("/") ? opts.baseUrl : `${opts.baseUrl}/`;
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * The decision for one event at a decision point: `{decision}`, or `{decision: null, reason}` when it
   * is not one (not-a-decision-point, or why the event was refused). Retried under the same id while
   * the server answers timeout, is busy (503) or cannot be reached, until the deadline; then it answers
   * `{decision: null, reason: "timeout"}` (show no offer), never throws for that.
   */
  async decide(event: DecideEvent, o: CallOptions = {}): Promise<DecideAnswer> {
    const body = { ...event, id: event.id ?? newId("d") };
    const end = Date.now() + (o.deadlineMs ?? 250);
    for (;;) {
      const r = await this.post("api/decide", body, end, o.signal).catch((err: unknown) => err as Error);
      let wait = RETRY_PAUSE_MS;
      if (!(r instanceof Error)) {
        if (r.status === 200) {
          const a = await answerOf(r, isDecideAnswer);
          if (!(a instanceof Error) && (a.decision || a.reason !== "timeout")) return a;
        }
        // A 4xx no retry changes (400, 404: a wrong base URL, 413: an event over server.maxRequestBytes) is
        // an error to see, not "no offer this time"; a 5xx (503: busy or NATS away) and 408/429 are retried.
        else if (isRefusal(r.status)) throw await refused(r);
        // …not before the server's Retry-After: a server shedding load (503, Retry-After: 1) was asked
        // again every 25 ms until the deadline, ten requests for each one it had refused.
        else wait = Math.max(wait, retryAfterMs(r));
      } else if (r instanceof PromoStreamError) throw r;
      if (Date.now() + wait >= end || o.signal?.aborted) return { decision: null, reason: "timeout" };
      await pause(wait);
    }
  }

  /** Hands events in (POST /api/events): what became of each. Each event gets an id first, kept across retries; `ts` may be left to the server. */
  async send(events: readonly ShopEventInput[], o: CallOptions = {}): Promise<EventsAnswer> {
    // (An event without ts is stamped by the server with the shop's time: in a simulated shop the
    // simulator's clock, which the wall clock here is not.)
    const body = events.map((e) => ({ ...e, id: e.id ?? newId("e") }));
    return this.batch("api/events", body, o);
  }

  /** Hands the shop's Segment tracking calls in (POST /api/track): what became of each. */
  async track(calls: SegmentCall | readonly SegmentCall[], o: CallOptions = {}): Promise<TrackAnswer> {
    const list = (Array.isArray(calls) ? calls : [calls]) as SegmentCall[];
    // "" too: the server reads a Segment field sent as null or "" as not sent, and refused such a call (missing-message-id).
    const body = { batch: list.map((c) => ({ ...c, messageId: c.messageId === undefined || c.messageId === null || c.messageId === "" ? newId("t") : c.messageId })) };
    // The same retries as send(); the answer's shape is /api/track's (src/server/server.ts track()).
    return this.batch("api/track", body, o) as unknown as Promise<TrackAnswer>;
  }

  private async batch(path: string, body: unknown, o: CallOptions): Promise<EventsAnswer> {
    const end = Date.now() + (o.deadlineMs ?? 5_000);
    let last: unknown;
    for (let attempt = 0; ; attempt++) {
      const r = await this.post(path, body, end, o.signal).catch((err: unknown) => err as Error);
      let wait = Math.min(1_000, 50 * 2 ** attempt);
      if (!(r instanceof Error)) {
        if (r.status === 200) {
          const a = await answerOf(r, isEventsAnswer);
          if (!(a instanceof Error)) return a;
          last = a;
        }
        // As decide(): a 408 or 429 (a proxy's timeout, a rate limit) passes with time; other 4xx do not.
        else if (isRefusal(r.status)) throw await refused(r);
        else {
          last = new Error(`HTTP ${r.status}`);
          wait = Math.max(wait, retryAfterMs(r));
        }
      } else if (r instanceof PromoStreamError) throw r;
      else last = r;
      if (Date.now() + wait >= end || o.signal?.aborted) throw new PromoStreamError("PS_ERR_CLIENT_DEADLINE", `no answer from ${this.base}${path} within the deadline`, undefined, { cause: last });
      await pause(wait);
    }
  }

  private async post(path: string, body: unknown, endMs: number, signal: AbortSignal | undefined): Promise<Response> {
    const left = endMs - Date.now();
    if (left <= 0) throw new Error("deadline");
    const timeout = AbortSignal.timeout(left);
    const r = await this.fetch(new URL(path, this.base), {
      method: "POST",
      headers: { "content-type": "application/json", ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}) },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (r.status === 401) throw new PromoStreamError("PS_ERR_CLIENT_AUTH", "the server wants an access token (ClientOptions.token, the server's API_TOKEN)", 401);
    return r;
  }
}

const isDecideAnswer = (v: unknown): v is DecideAnswer => typeof v === "object" && v !== null && "decision" in v;
const isEventsAnswer = (v: unknown): v is EventsAnswer => typeof v === "object" && v !== null && Array.isArray((v as { results?: unknown }).results);

/**
 * A 200's answer. An Error when its body did not arrive whole (the deadline passed while it was read,
 * the connection was cut): no answer, asked again as any other; decide() threw the deadline's
 * TimeoutError there. PS_ERR_CLIENT_REFUSED when it arrived and is no answer of promo-stream's (a
 * proxy's page, or a web server's at a wrong base URL, which answers every path 200): no retry changes
 * it, as a 404; it threw a SyntaxError, or decide() answered the JSON it was given.
 */
async function answerOf<T>(r: Response, isAnswer: (v: unknown) => v is T): Promise<T | Error> {
  let text: string;
  try {
    text = await r.text();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (isAnswer(value)) return value;
  throw new PromoStreamError("PS_ERR_CLIENT_REFUSED", `${r.url || "the server"} answered 200 with no promo-stream answer (content-type ${r.headers.get("content-type") ?? "none"}): does baseUrl name promo-stream's server?`, 200);
}

/** A status no retry changes: a 4xx but 408 and 429 (401 never reaches here: post() throws PS_ERR_CLIENT_AUTH). */
function isRefusal(status: number): boolean {
  return status < 500 && status !== 408 && status !== 429;
}

async function refused(r: Response): Promise<PromoStreamError> {
  let detail = `HTTP ${r.status}`;
  try {
    detail = ((await r.json()) as { error?: string }).error ?? detail;
  } catch {
    /* not JSON */
  }
  return new PromoStreamError("PS_ERR_CLIENT_REFUSED", detail, r.status);
}

/** The answer's Retry-After in ms (seconds, as the server sends it; an HTTP date is read too), 0 without one. */
function retryAfterMs(r: Response): number {
  const h = r.headers.get("retry-after");
  if (h === null) return 0;
  const sec = Number(h);
  if (h.trim() !== "" && Number.isFinite(sec)) return Math.max(0, sec * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

function newId(prefix: string): string {
  return `${prefix}-${globalThis.crypto.randomUUID()}`;
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
