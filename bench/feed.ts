// An open-loop feed: events sent on a fixed schedule (not after replies), and the time from each
// decision point's *scheduled* send to the receipt of its decision, in an HDR histogram.
//
// Coordinated omission: a sender that falls behind (a busy event loop, a full publish window) sends
// late, and a latency measured from the actual send would hide exactly the stalls that matter. Each
// latency here runs from the moment the event was due, so a stall shows in full in every event it
// delayed (the correction hdr-histogram-js's recordValueWithExpectedInterval approximates after the
// fact, done at the source instead).
import { readFileSync, writeFileSync } from "node:fs";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import { PipelinedPublisher } from "../src/io/nats/index.ts";
import type { WireEvent } from "./events.ts";
import { sleep } from "./stats.ts";

/**
 * The events of a feed, by index. An array of WireEvents, or a packed file (packFeed/loadFeed): the
 * latency section's feed runs in a child process of its own (bench/feed-child.ts), whose heap then
 * holds a few arrays and one buffer of payloads instead of an object per event.
 */
export interface FeedEvents {
  readonly length: number;
  subject(i: number): string;
  data(i: number): Uint8Array;
  id(i: number): string;
  decisionPoint(i: number): boolean;
}

export function feedOf(events: readonly WireEvent[]): FeedEvents {
  return {
    length: events.length,
    subject: (i) => events[i]!.subject,
    data: (i) => events[i]!.data,
    id: (i) => events[i]!.id,
    decisionPoint: (i) => events[i]!.decisionPoint,
  };
}

interface PackedMeta {
  subjects: string[];
  subjectOf: number[];
  ids: string[];
  points: number[];
  /** End offset of each payload in the .bin file. */
  ends: number[];
}

/** Writes events to `<file>.json` (subjects, ids, decision points, offsets) and `<file>.bin` (payloads). */
export function packFeed(events: readonly WireEvent[], file: string): void {
  const subjects: string[] = [];
  const index = new Map<string, number>();
  const meta: PackedMeta = { subjects, subjectOf: [], ids: [], points: [], ends: [] };
  let end = 0;
  for (const e of events) {
    let k = index.get(e.subject);
    if (k === undefined) index.set(e.subject, (k = subjects.push(e.subject) - 1));
    meta.subjectOf.push(k);
    meta.ids.push(e.id);
    meta.points.push(e.decisionPoint ? 1 : 0);
    meta.ends.push((end += e.data.byteLength));
  }
  const bin = Buffer.allocUnsafe(end);
  let at = 0;
  for (const e of events) {
    bin.set(e.data, at);
    at += e.data.byteLength;
  }
  writeFileSync(`${file}.json`, JSON.stringify(meta));
  writeFileSync(`${file}.bin`, bin);
}

export function loadFeed(file: string): FeedEvents {
  const meta = JSON.parse(readFileSync(`${file}.json`, "utf8")) as PackedMeta;
  const bin = readFileSync(`${file}.bin`);
  const ends = Float64Array.from(meta.ends);
  return {
    length: meta.ids.length,
    subject: (i) => meta.subjects[meta.subjectOf[i]!]!,
    data: (i) => bin.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!),
    id: (i) => meta.ids[i]!,
    decisionPoint: (i) => meta.points[i] === 1,
  };
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface FeedResult {
  offeredPerSec: number;
  /** Events actually sent per second over the phase (below offered when the sender could not keep up). */
  sentPerSec: number;
  events: number;
  decisionPoints: number;
  decisions: number;
  /** Decision points whose decision did not arrive within the grace period. */
  missing: number;
  /** Publish-to-decision latency in ms, from the scheduled send; a missing decision counts at the time waited for it (at least the grace period). */
  latencyMs: LatencySummary;
  /** The latest the sender ever was behind its schedule, ms. */
  maxSendLagMs: number;
}

/** Receives decisions (core subscription on decisions.>) and matches them to the events by msg id. */
export class DecisionWatch {
  private readonly sub: Subscription;
  /** eventId → scheduled send (performance clock ms) of decision points awaiting their decision. */
  readonly due = new Map<string, number>();
  hist: Histogram = newHistogram();
  received = 0;

  constructor(nc: NatsConnection, prefix: string) {
    this.sub = nc.subscribe(`${prefix}decisions.>`, {
      callback: (err, m) => {
        if (err) return;
        const now = performance.now();
        // The decision's msg id is `d-<event id>` (src/engine): no JSON parse needed to match it.
        const id = m.headers?.get("Nats-Msg-Id");
        if (!id) return;
        const eventId = id.slice(2);
        const at = this.due.get(eventId);
        if (at === undefined) return;
        this.due.delete(eventId);
        this.received++;
        this.hist.recordValue(Math.max(1, Math.round((now - at) * 1000)));
      },
    });
  }

  /**
   * Decision points still without a decision (the grace period is over) go into the histogram at what
   * they have waited so far, a lower bound of their latency: left out, a processor that fell behind
   * past the grace period would leave its slowest decisions out of every percentile. Returns how many.
   */
  recordOutstanding(now: number): number {
    const n = this.due.size;
    for (const at of this.due.values()) this.hist.recordValue(Math.min(this.hist.highestTrackableValue, Math.max(1, Math.round((now - at) * 1000))));
    this.due.clear();
    return n;
  }

  reset(): void {
    this.hist = newHistogram();
    this.received = 0;
    this.due.clear();
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

function newHistogram(): Histogram {
  // µs from 1 µs to 60 s at 3 significant digits.
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export function summarise(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return { p50: ms(h.getValueAtPercentile(50)), p99: ms(h.getValueAtPercentile(99)), p999: ms(h.getValueAtPercentile(99.9)), max: ms(h.maxValue) };
}

/**
 * Sends `events` at `ratePerSec` on schedule (a 1 ms tick sends everything that is due), then waits
 * up to `graceMs` for the outstanding decisions.
 */
export async function runFeed(pub: PipelinedPublisher, watch: DecisionWatch, feed: readonly WireEvent[] | FeedEvents, ratePerSec: number, graceMs = 10_000): Promise<FeedResult> {
  const events = Array.isArray(feed) ? feedOf(feed) : (feed as FeedEvents);
  watch.reset();
  const intervalMs = 1000 / ratePerSec;
  const t0 = performance.now() + 5;
  let i = 0;
  let maxLag = 0;
  let decisionPoints = 0;
  while (i < events.length) {
    const now = performance.now();
    while (i < events.length && t0 + i * intervalMs <= now) {
      const at = t0 + i * intervalMs;
      const id = events.id(i);
      if (!pub.tryPublish(events.subject(i), events.data(i), id)) {
        await pub.room(); // the window is full: this event goes out late, and its latency says so
        continue;
      }
      // Registered right after the publish, in the same tick: its decision cannot arrive before.
      if (events.decisionPoint(i)) {
        watch.due.set(id, at);
        decisionPoints++;
      }
      maxLag = Math.max(maxLag, performance.now() - at);
      i++;
    }
    await sleep(1);
  }
  const sentSeconds = (performance.now() - t0) / 1000;
  const end = performance.now() + graceMs;
  while (watch.due.size > 0 && performance.now() < end) await sleep(5);
  const missing = watch.recordOutstanding(performance.now());
  await pub.flush();
  return {
    offeredPerSec: ratePerSec,
    sentPerSec: events.length / sentSeconds,
    events: events.length,
    decisionPoints,
    decisions: watch.received,
    missing,
    latencyMs: summarise(watch.hist),
    maxSendLagMs: Math.round(maxLag * 1000) / 1000,
  };
}
