// A real log → events on the bus: read the CSV (csv.ts), map each row with its format's module,
// check every event against the contract, put them back in event-time order (reorder.ts), pace them
// (pacer.ts) and publish them (sink.ts). Nothing vanishes unseen: every row is published, skipped
// with a reason (no event type for it) or counted as malformed with an example kept.
import { decodeEvent, emptySegmentTally, encodeEvent, addSegmentTally, type EventType, type SegmentTally, type ShopEvent, type Subjects } from "../../src/events/index.ts";
import { countLines, readCsv } from "./csv.ts";
import { readJsonLines } from "./jsonl.ts";
import type { ReplayFormat } from "./format.ts";
import { Pacer, realClock, type Clock, type ReplaySpeed } from "./pacer.ts";
import { noProgress, type ProgressReporter } from "./progress.ts";
import { ReorderBuffer } from "./reorder.ts";
import type { EventSink } from "./sink.ts";

/** Events held for reordering by default: more than the seed clickstream's 74,817 rows (see reorder.ts). */
export const DEFAULT_BUFFER_EVENTS = 100_000;

export interface ReplayOptions {
  file: string;
  format: ReplayFormat;
  sink: EventSink;
  subjects: Subjects;
  partitions: number;
  /** Events larger than this (bytes) are malformed: the processor would dead-letter them. */
  maxEventBytes: number;
  speed?: ReplaySpeed;
  bufferEvents?: number;
  /** Log clock start for formats without timestamps; the format's default otherwise. */
  startMs?: number;
  clock?: Clock;
  progress?: ProgressReporter;
  signal?: AbortSignal;
  /** Malformed rows kept as examples for the report. */
  maxExamples?: number;
  /**
   * Msg ids the stream already holds (read at the start): their events are counted as already in the
   * stream and not published again, nor waited for at --speed. The server drops a repeated id only
   * within its duplicate window (streams.events.duplicateWindowSec, 2 min by default), so without
   * this a replay started again after a crash, or the same file replayed the next day, stored every
   * event a second time.
   */
  storedIds?: ReadonlySet<string>;
}

export interface MalformedExample {
  line: number;
  reason: string;
  text: string;
}

export interface ReplayReport {
  format: string;
  file: string;
  /** Data rows read (a record the CSV parser could not read counts as one). */
  rows: number;
  /** Events acknowledged by the server, and of those the ones it already had (or held at the start: storedIds). */
  published: number;
  duplicates: number;
  /** Events given up on after retries. */
  failed: number;
  /** Events sent, per type. */
  byType: Partial<Record<EventType, number>>;
  malformed: number;
  malformedExamples: MalformedExample[];
  /**
   * For formats of tracking calls (segment): the calls read, mapped, ignored by kind and rejected by
   * reason, and the fields the contract could not hold, by name (once per mapped call).
   */
  calls?: SegmentTally;
  rejectedExamples: MalformedExample[];
  skipped: number;
  skippedReasons: Record<string, number>;
  /** Events that arrived older than one already published (the buffer was too small for the disorder). */
  late: number;
  firstTs: number | undefined;
  lastTs: number | undefined;
  aborted: boolean;
  /** Events read and not published because the replay was interrupted (0 otherwise). */
  unpublished: number;
  elapsedMs: number;
  lastError: string | undefined;
}

interface Pending {
  ts: number;
  seq: number;
  type: EventType;
  subject: string;
  data: Uint8Array;
  id: string;
  /** The last of its row's events to go out: the row is done when it is sent. */
  endsRow: boolean;
}

export async function replayFile(o: ReplayOptions): Promise<ReplayReport> {
  const t0 = performance.now();
  const clock = o.clock ?? realClock;
  const progress = o.progress ?? noProgress;
  const maxExamples = o.maxExamples ?? 5;
  const pacer = new Pacer(o.speed ?? "max", clock);
  const buffer = new ReorderBuffer<Pending>(o.bufferEvents ?? DEFAULT_BUFFER_EVENTS);
  const mapRow = o.format.createMapper({ startMs: o.startMs ?? o.format.defaultStartMs, maxEventBytes: o.maxEventBytes });
  const jsonl = o.format.input === "jsonl";
  const r: ReplayReport = {
    format: o.format.name,
    file: o.file,
    rows: 0,
    published: 0,
    duplicates: 0,
    failed: 0,
    byType: {},
    malformed: 0,
    malformedExamples: [],
    rejectedExamples: [],
    skipped: 0,
    skippedReasons: {},
    late: 0,
    firstTs: undefined,
    lastTs: undefined,
    aborted: false,
    unpublished: 0,
    elapsedMs: 0,
    lastError: undefined,
  };
  let rowsDone = 0;
  let sent = 0;
  /** Events not published because the stream held their ids already (storedIds). */
  let held = 0;
  let seq = 0;
  const malformed = (line: number, reason: string, text: string) => {
    r.malformed++;
    rowsDone++;
    if (r.malformedExamples.length < maxExamples) r.malformedExamples.push({ line, reason, text: text.replace(/[\r\n]+$/, "").slice(0, 200) });
  };
  const show = () =>
    progress.update({ rowsDone, eventsPublished: o.sink.stats.published + held, malformed: r.malformed, skipped: r.skipped, logTs: r.lastTs });
  /** Publishes one event when it is due; false (nothing published) when the replay was interrupted first. */
  const send = async (p: Pending): Promise<boolean> => {
    const stored = o.storedIds?.has(p.id) === true;
    // What the stream holds goes by at once: a replay resumed after a crash paces from where it stopped.
    if (!stored) await pacer.waitFor(p.ts, o.signal);
    if (o.signal?.aborted) return false;
    if (stored) held++;
    else await o.sink.publish(p.subject, p.data, p.id);
    sent++;
    r.byType[p.type] = (r.byType[p.type] ?? 0) + 1;
    if (r.firstTs === undefined || p.ts < r.firstTs) r.firstTs = p.ts;
    if (r.lastTs === undefined || p.ts > r.lastTs) r.lastTs = p.ts;
    if (p.endsRow) rowsDone++;
    if ((sent & 255) === 0) show();
    return true;
  };
  /** Sends events in order until the replay is interrupted; false then. */
  const sendAll = async (ps: Iterable<Pending>): Promise<boolean> => {
    for (const p of ps) if (!(await send(p))) return false;
    return true;
  };

  // A CSV's first line is its header; JSON lines have none.
  progress.start(Math.max(0, (await countLines(o.file)) - (jsonl ? 0 : 1)));
  try {
    for await (const item of jsonl ? readJsonLines(o.file) : readCsv(o.file, o.format)) {
      if (o.signal?.aborted) {
        r.aborted = true;
        break;
      }
      r.rows++;
      if (item.kind === "bad") {
        malformed(item.line, item.reason, item.text);
        continue;
      }
      const res = mapRow(item.row);
      if (res.kind === "malformed") {
        malformed(item.row.line, res.reason, item.row.raw);
        continue;
      }
      if (res.kind === "skipped") {
        r.skipped++;
        rowsDone++;
        r.skippedReasons[res.reason] = (r.skippedReasons[res.reason] ?? 0) + 1;
        continue;
      }
      const checked = checkEvents(res.events, o);
      if (typeof checked === "string") {
        malformed(item.row.line, checked, item.row.raw);
        continue;
      }
      if (res.calls) {
        addSegmentTally((r.calls ??= emptySegmentTally()), res.calls.tally);
        for (const x of res.calls.rejections)
          if (r.rejectedExamples.length < maxExamples) r.rejectedExamples.push({ line: item.row.line, reason: x.reason, text: x.detail.slice(0, 200) });
      }
      if (checked.length === 0) {
        rowsDone++;
        continue;
      }
      let last = 0;
      checked.forEach((c, i) => {
        if (c.ts >= checked[last]!.ts) last = i;
      });
      checked.forEach((c, i) => buffer.push({ ...c, seq: seq++, endsRow: i === last }));
      if (!(await sendAll(buffer.overflow()))) {
        r.aborted = true;
        break;
      }
    }
    if (!r.aborted && !(await sendAll(buffer.drain()))) r.aborted = true;
  } finally {
    // Read and not published: what an interruption left in the reorder buffer (or waiting for its time).
    r.unpublished = seq - sent;
    await o.sink.flush();
    const st = o.sink.stats;
    r.published = st.published + held;
    r.duplicates = st.duplicates + held;
    r.failed = st.failed;
    r.lastError = st.lastError;
    r.late = buffer.late;
    show();
    progress.stop();
    r.elapsedMs = performance.now() - t0;
  }
  return r;
}

/** Encodes and checks a row's events against the contract; a reason string when one fails. */
function checkEvents(events: ShopEvent[], o: ReplayOptions): Omit<Pending, "seq" | "endsRow">[] | string {
  const out: Omit<Pending, "seq" | "endsRow">[] = [];
  for (const e of events) {
    const data = encodeEvent(e);
    const d = decodeEvent(data, o.maxEventBytes);
    if (!d.ok) return `its ${e.type} event breaks the event contract (${d.reason}: ${d.detail})`;
    const subject = o.subjects.forEvent(e, o.partitions);
    out.push({ ts: e.ts, type: e.type, subject, data, id: e.id });
  }
  return out;
}

/** The closing line: what was published and what was not, and why. */
export function summaryLine(r: ReplayReport): string {
  const types = (Object.entries(r.byType) as [string, number][]).map(([t, k]) => `${t} ${k}`).join(", ");
  const skipped = Object.entries(r.skippedReasons)
    .map(([why, k]) => `${k} ${why}`)
    .join("; ");
  const parts = [
    `replay ${r.format}${r.aborted ? ` (interrupted: ${r.unpublished} events read and not published)` : ""}: ${r.rows} rows`,
    ...(r.calls ? [callsPart(r.calls)] : []),
    `published ${r.published} events${types ? ` (${types})` : ""}`,
    `${r.duplicates} already in the stream`,
    `malformed ${r.malformed} rows`,
    `skipped ${r.skipped} rows${skipped ? ` (${skipped})` : ""}`,
    `late ${r.late}`,
    `failed ${r.failed}`,
    `in ${(r.elapsedMs / 1000).toFixed(1)} s`,
  ];
  return parts.join(", ");
}

/** "calls: 9 mapped, 3 ignored (identify 2, track 1), 1 rejected (missing-message-id 1), dropped fields (properties.name 5, …)". */
function callsPart(t: SegmentTally): string {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
  const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const ignored = sum(t.ignored);
  const rejected = sum(t.rejected);
  return [
    `calls: ${t.mapped} mapped`,
    `${ignored} ignored${ignored ? ` (${list(t.ignored)})` : ""}`,
    `${rejected} rejected${rejected ? ` (${list(t.rejected)})` : ""}`,
    `dropped fields${Object.keys(t.dropped).length ? ` (${list(t.dropped)})` : " none"}`,
  ].join(", ");
}
