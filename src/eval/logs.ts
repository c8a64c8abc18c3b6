// A shop's log for the what-if evaluation (issue #17): its events (EVENTS), the decisions taken
// (DECISIONS) and their outcomes (OUTCOMES), read from a running NATS with ordered consumers, or from
// a file written by `npm run eval -- --export-logs FILE` (one JSON line per stored message:
// {"stream": "EVENTS"|"DECISIONS"|"OUTCOMES", "m": <the message's JSON>}). Messages that do not decode
// (bad input the processor dead-lettered, or another version's) are counted and skipped.
import { createReadStream, createWriteStream, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Value } from "@sinclair/typebox/value";
import type { Config } from "../config/index.ts";
import { decodeDecision, decodeEvent, INTERNAL_EVENT_TYPES, OutcomeSchema, type OutcomeRecord } from "../events/index.ts";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";
import type { ShopLog } from "./whatif.ts";

export type LogStream = "EVENTS" | "DECISIONS" | "OUTCOMES";

export interface LogCounts {
  events: number;
  decisions: number;
  outcomes: number;
  /** Messages that did not decode, by stream. */
  skipped: Record<LogStream, number>;
  /**
   * Messages whose id came before (a file with repeated lines, or an event stored again after EVENTS'
   * duplicate window): counted once above. A repeated event stays in the log, as the processor saw it
   * (its engine drops it as a duplicate, and so does the evaluation's); a repeated decision or outcome
   * replaces the first.
   */
  repeated: Record<LogStream, number>;
  /**
   * Lines of a log file that are no record at all (not JSON, e.g. a last line cut short, or no
   * "stream"): skipped and counted, with the first few line numbers; always 0 when read from NATS.
   */
  badLines: number;
  badLineExamples: { line: number; reason: string }[];
}

const decoder = new TextDecoder();

/** Collects decoded messages into a log. */
class LogBuilder {
  readonly log: ShopLog = { events: [], decisions: new Map(), outcomes: new Map() };
  readonly counts: LogCounts = { events: 0, decisions: 0, outcomes: 0, skipped: { EVENTS: 0, DECISIONS: 0, OUTCOMES: 0 }, repeated: { EVENTS: 0, DECISIONS: 0, OUTCOMES: 0 }, badLines: 0, badLineExamples: [] };
  private readonly eventIds = new Set<string>();
  /**
   * `maxEventBytes`: the largest shop event the processor takes (a larger one it dead-letters);
   * `maxMsgBytes`: the stream's, which partitions' internal events (sync tables) may fill.
   */
  constructor(
    private readonly maxEventBytes: number,
    private readonly maxMsgBytes: number,
  ) {}

  add(stream: LogStream, data: Uint8Array): void {
    if (stream === "EVENTS") {
      const e = decodeEvent(data, Math.max(this.maxEventBytes, this.maxMsgBytes));
      // Partitions' internal bookkeeping (stock copies, grants, shared counts) is not the shop's.
      if (e.ok && (INTERNAL_EVENT_TYPES as readonly string[]).includes(e.value.type)) return;
      if (!e.ok || data.byteLength > this.maxEventBytes) {
        this.counts.skipped.EVENTS++;
        return;
      }
      this.log.events.push(e.value);
      if (this.eventIds.has(e.value.id)) this.counts.repeated.EVENTS++;
      else {
        this.eventIds.add(e.value.id);
        this.counts.events++;
      }
    } else if (stream === "DECISIONS") {
      const d = decodeDecision(data);
      if (!d.ok) return void this.counts.skipped.DECISIONS++;
      if (this.log.decisions.has(d.value.eventId)) this.counts.repeated.DECISIONS++;
      else this.counts.decisions++;
      this.log.decisions.set(d.value.eventId, d.value);
    } else {
      let o: unknown;
      try {
        o = JSON.parse(decoder.decode(data));
      } catch {
        return void this.counts.skipped.OUTCOMES++;
      }
      if (!Value.Check(OutcomeSchema, o)) return void this.counts.skipped.OUTCOMES++;
      if (this.log.outcomes.has((o as OutcomeRecord).decisionId)) this.counts.repeated.OUTCOMES++;
      else this.counts.outcomes++;
      this.log.outcomes.set((o as OutcomeRecord).decisionId, o as OutcomeRecord);
    }
  }
}

/** The stream names of this configuration, by their role in the log. */
function streamNames(cfg: Readonly<Config>): Record<LogStream, string> {
  return { EVENTS: cfg.streams.events.name, DECISIONS: cfg.streams.decisions.name, OUTCOMES: cfg.streams.outcomes.name };
}

/** Every message stored in a stream now, in order, handed to `each`. */
async function readStream(nc: NatsConnection, stream: string, each: (data: Uint8Array) => void | Promise<void>, progress?: (n: number) => void, signal?: AbortSignal): Promise<number> {
  if (signal?.aborted) return 0;
  const jsm = await jetstreamManager(nc);
  let last: number;
  let stored: number;
  try {
    const state = (await jsm.streams.info(stream)).state;
    last = state.last_seq;
    stored = state.messages;
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `stream ${stream} cannot be read: ${(err as Error).message}; is this promo-stream's NATS, and has the processor run?`, { cause: err });
  }
  // A purged stream, or one whose messages all aged out, keeps its last sequence with no message left:
  // waiting for that sequence, the read hung for good.
  if (last === 0 || stored === 0) return 0;
  const c = await jetstream(nc).consumers.get(stream);
  const it = await c.consume({ max_messages: 1000 });
  // An interruption ends the read at once, also while it waits for the server.
  const stop = () => void it.close();
  signal?.addEventListener("abort", stop, { once: true });
  let n = 0;
  try {
    for await (const m of it) {
      if (signal?.aborted) break;
      // Only a writer whose buffer is full hands back a promise: the read waits for it (back-pressure).
      const waiting = each(m.data);
      if (waiting) await waiting;
      if (++n % 100_000 === 0) progress?.(n);
      // Read up to the last sequence when the read began, or to the stream's end when that message is
      // gone (deleted, or aged out during the read): no message after this one is stored.
      if (m.seq >= last || m.info.pending === 0) break;
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    await it.close();
  }
  return n;
}

/** The log as the streams hold it now. */
export async function readLogFromNats(nc: NatsConnection, cfg: Readonly<Config>, progress?: (text: string) => void): Promise<{ log: ShopLog; counts: LogCounts }> {
  const b = new LogBuilder(cfg.processor.maxEventBytes, cfg.streams.events.maxMsgBytes);
  const names = streamNames(cfg);
  for (const s of ["EVENTS", "DECISIONS", "OUTCOMES"] as const) {
    const n = await readStream(nc, names[s], (data) => b.add(s, data), (k) => progress?.(`${names[s]}: ${k} messages read`));
    progress?.(`${names[s]}: ${n} messages`);
  }
  return { log: b.log, counts: b.counts };
}

/**
 * Writes the streams' messages to a file, one JSON line each; returns how many. When `signal` aborts
 * (Ctrl-C) the read stops at once and what was read is written and the file closed, every line whole.
 */
export async function exportLogs(nc: NatsConnection, cfg: Readonly<Config>, file: string, progress?: (text: string) => void, signal?: AbortSignal): Promise<Record<LogStream, number>> {
  const out = createWriteStream(file);
  // A file that cannot be written (no such directory, no permission, a full disk) ends the export with
  // an error naming it, not an unhandled 'error' event.
  let failure: Error | undefined;
  const failed = new Promise<never>((_, reject) =>
    out.on("error", (err) => {
      failure = new EvalError(PS_ERR_EVAL.DataUnreadable, `cannot write ${file}: ${err.message}`, { cause: err });
      reject(failure);
    }),
  );
  failed.catch(() => undefined);
  const names = streamNames(cfg);
  const counts: Record<LogStream, number> = { EVENTS: 0, DECISIONS: 0, OUTCOMES: 0 };
  for (const s of ["EVENTS", "DECISIONS", "OUTCOMES"] as const) {
    counts[s] = await readStream(
      nc,
      names[s],
      (data) => {
        if (failure) throw failure;
        // Back-pressure: the read waits for the file when its buffer is full (one wait, not a listener
        // per message: those piled up and the export slowed to a crawl on large streams).
        if (!out.write(`{"stream":"${s}","m":${oneLine(decoder.decode(data))}}\n`)) return Promise.race([new Promise<void>((r) => out.once("drain", () => r())), failed]);
      },
      (k) => progress?.(`${names[s]}: ${k} messages written`),
      signal,
    );
  }
  await Promise.race([new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve()))), failed]);
  return counts;
}

/**
 * A message's JSON on one line of the export. A message with line breaks (an event a shop's producer
 * pretty-printed, valid and taken by the processor) was cut into lines that are no record, and skipped
 * when read; it is written compact, and one that is no JSON at all as a JSON string (read back, it does
 * not decode, and is counted as the processor's dead letters are). Only such messages are parsed here.
 */
function oneLine(text: string): string {
  if (!/[\r\n]/.test(text)) return text;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

const encoder = new TextEncoder();

/** Writes a log held in memory (e.g. a simulated shop's, src/eval/sim.ts simLog) in the export format. */
export function writeLogFile(log: ShopLog, file: string): void {
  const lines: string[] = [];
  for (const e of log.events) lines.push(`{"stream":"EVENTS","m":${JSON.stringify(e)}}`);
  for (const d of log.decisions.values()) lines.push(`{"stream":"DECISIONS","m":${JSON.stringify(d)}}`);
  for (const o of log.outcomes.values()) lines.push(`{"stream":"OUTCOMES","m":${JSON.stringify(o)}}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
}

/**
 * A log from a file written by exportLogs. A line that is no record (not JSON, or without a known
 * "stream": a last line cut short by a full disk or a copy in progress, a line mangled by hand) is
 * skipped and counted in `badLines`, and the rest is read; a file with no record at all is refused.
 */
export async function readLogFile(file: string, cfg: Readonly<Config>, progress?: (text: string) => void): Promise<{ log: ShopLog; counts: LogCounts }> {
  const b = new LogBuilder(cfg.processor.maxEventBytes, cfg.streams.events.maxMsgBytes);
  let lineNo = 0;
  let records = 0;
  const bad = (reason: string) => {
    b.counts.badLines++;
    if (b.counts.badLineExamples.length < 5) b.counts.badLineExamples.push({ line: lineNo, reason });
  };
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const raw of lines) {
      lineNo++;
      if (lineNo % 100_000 === 0) progress?.(`${lineNo} lines read`);
      // A byte-order mark on the first line is the editor's, not the log's.
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, "") : raw;
      if (!line.trim()) continue;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        bad("not JSON");
        continue;
      }
      const stream = typeof rec === "object" && rec !== null ? (rec as { stream?: unknown }).stream : undefined;
      if (stream !== "EVENTS" && stream !== "DECISIONS" && stream !== "OUTCOMES") {
        bad('"stream" must be EVENTS, DECISIONS or OUTCOMES');
        continue;
      }
      records++;
      b.add(stream, encoder.encode(JSON.stringify((rec as { m?: unknown }).m)));
    }
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const first = b.counts.badLineExamples[0];
  if (records === 0 && first) throw new EvalError(PS_ERR_EVAL.DataInvalid, `${file} line ${first.line}: ${first.reason}; write the file with npm run eval -- --export-logs`);
  return { log: b.log, counts: b.counts };
}
