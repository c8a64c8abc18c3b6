// POST /api/track as a function (issue 22): the request body, Segment e-commerce spec v2 calls (one
// call, or `{"batch": [...]}` as Segment's HTTP batch endpoint takes it), → the events to publish and
// an answer per call. Mapping is src/events/segment.ts; this adds what a request needs: whether the
// body is one at all (else 400), a bound on calls per request, and the counts for the metrics
// ps_track_ignored_total{kind} and ps_track_dropped_fields_total{field}. No I/O: the server parses
// the JSON, publishes `events` (Nats-Msg-Id = each event's id, which is the call's messageId, so a
// retried request is deduplicated) and answers with `results`.
import { isSegmentBatch, mapSegment, tallySegment, type CustomerEvent, type SegmentIgnoredKind, type SegmentResult, type SegmentTally } from "../events/index.ts";

/** Calls one request may carry: Segment's own batch limit (its HTTP API docs: 2,500 calls, 500 KB). */
export const DEFAULT_TRACK_MAX_CALLS = 2_500;

export interface TrackOptions {
  /** The largest event accepted: pass processor.maxEventBytes (16384 by default, as its default). */
  maxEventBytes?: number;
  /** Calls one request may carry (DEFAULT_TRACK_MAX_CALLS by default); more is a 400. */
  maxCalls?: number;
}

/** One call's answer, `index` its place in the batch (0 for a single call). */
export type TrackCallResult =
  | {
      index: number;
      status: "mapped";
      messageId: string;
      /** The event's id (the messageId) and type, and its place in TrackResult.events. */
      eventId: string;
      type: CustomerEvent["type"];
      eventIndex: number;
      /** Fields of the call the event contract cannot hold (README "Tracking events from the shop"). */
      dropped: string[];
    }
  | { index: number; status: "ignored"; messageId?: string; kind: SegmentIgnoredKind; name?: string }
  | { index: number; status: "rejected"; messageId?: string; reason: string; detail: string };

export type TrackResult =
  | ({
      ok: true;
      /** Whether the body was a batch (`{"batch": [...]}`) rather than one call. */
      batch: boolean;
      results: TrackCallResult[];
      /** The events to publish, in call order: one per mapped call. */
      events: CustomerEvent[];
    } & SegmentTally)
  /** Not a Segment call nor a batch, or too many calls: answer 400 with `error`. */
  | { ok: false; error: string };

function answer(r: SegmentResult, index: number, events: CustomerEvent[]): TrackCallResult {
  if (r.status !== "mapped") return { index, ...r };
  events.push(r.event);
  return { index, status: "mapped", messageId: r.messageId, eventId: r.event.id, type: r.event.type, eventIndex: events.length - 1, dropped: r.dropped };
}

/** A POST /api/track body (parsed JSON) at the shop's time nowMs → per-call results and the events to publish. Never throws. */
export function trackBody(body: unknown, nowMs: number, opts: TrackOptions = {}): TrackResult {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, error: 'the body must be one Segment call ({"type": "track", "event": …}) or a batch ({"batch": [...]})' };
  const batch = Object.hasOwn(body, "batch");
  if (batch && !isSegmentBatch(body)) return { ok: false, error: "batch must be an array of Segment calls" };
  const maxCalls = opts.maxCalls ?? DEFAULT_TRACK_MAX_CALLS;
  if (batch && (body as { batch: unknown[] }).batch.length > maxCalls)
    return { ok: false, error: `a batch holds at most ${maxCalls} calls, this one ${(body as { batch: unknown[] }).batch.length}` };
  const mapped = mapSegment(body, nowMs, opts.maxEventBytes !== undefined ? { maxEventBytes: opts.maxEventBytes } : {});
  const events: CustomerEvent[] = [];
  const results = mapped.map((r, i) => answer(r, i, events));
  return { ok: true, batch, results, events, ...tallySegment(mapped) };
}
