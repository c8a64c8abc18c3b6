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
}

const decoder = new TextDecoder();

/** Collects decoded messages into a log. */
class LogBuilder {
  readonly log: ShopLog = { events: [], decisions: new Map(), outcomes: new Map() };
  readonly counts: LogCounts = { events: 0, decisions: 0, outcomes: 0, skipped: { EVENTS: 0, DECISIONS: 0, OUTCOMES: 0 }, repeated: { EVENTS: 0, DECISIONS: 0, OUTCOMES: 0 } };
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
async function readStream(nc: NatsConnection, stream: string, each: (data: Uint8Array) => void | Promise<void>, progress?: (n: number) => void): Promise<number> {
  const jsm = await jetstreamManager(nc);
  let last: number;
  try {
    last = (await jsm.streams.info(stream)).state.last_seq;
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `stream ${stream} cannot be read: ${(err as Error).message}; is this promo-stream's NATS, and has the processor run?`, { cause: err });
  }
  if (last === 0) return 0;
  const c = await jetstream(nc).consumers.get(stream);
  const it = await c.consume({ max_messages: 1000 });
  let n = 0;
  try {
    for await (const m of it) {
      // Only a writer whose buffer is full hands back a promise: the read waits for it (back-pressure).
      const waiting = each(m.data);
      if (waiting) await waiting;
      if (++n % 100_000 === 0) progress?.(n);
      if (m.seq >= last) break;
    }
  } finally {
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

/** Writes the streams' messages to a file, one JSON line each; returns how many. */
export async function exportLogs(nc: NatsConnection, cfg: Readonly<Config>, file: string, progress?: (text: string) => void): Promise<Record<LogStream, number>> {
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
        if (!out.write(`{"stream":"${s}","m":${decoder.decode(data)}}\n`)) return Promise.race([new Promise<void>((r) => out.once("drain", () => r())), failed]);
      },
      (k) => progress?.(`${names[s]}: ${k} messages written`),
    );
  }
  await Promise.race([new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve()))), failed]);
  return counts;
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

/** A log from a file written by exportLogs. */
export async function readLogFile(file: string, cfg: Readonly<Config>): Promise<{ log: ShopLog; counts: LogCounts }> {
  const b = new LogBuilder(cfg.processor.maxEventBytes, cfg.streams.events.maxMsgBytes);
  let lineNo = 0;
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      lineNo++;
      if (!line.trim()) continue;
      let rec: { stream?: unknown; m?: unknown };
      try {
        rec = JSON.parse(line) as { stream?: unknown; m?: unknown };
      } catch {
        throw new EvalError(PS_ERR_EVAL.DataInvalid, `${file} line ${lineNo}: not JSON; write the file with npm run eval -- --export-logs`);
      }
      if (rec.stream !== "EVENTS" && rec.stream !== "DECISIONS" && rec.stream !== "OUTCOMES")
        throw new EvalError(PS_ERR_EVAL.DataInvalid, `${file} line ${lineNo}: "stream" must be EVENTS, DECISIONS or OUTCOMES`);
      b.add(rec.stream, encoder.encode(JSON.stringify(rec.m)));
    }
  } catch (err) {
    if (err instanceof EvalError) throw err;
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { log: b.log, counts: b.counts };
}
