// `npm run simulator -- replay --format <name> [--speed <factor>|max] [--buffer <events>] [--start <ISO>] FILE`
// (routed here by src/main.ts): publishes a real log to the NATS server at NATS_URL. Replay starts
// no server of its own: the events are meant for a processor that is already listening there.
import { access, constants } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "../../src/config/index.ts";
import { Subjects } from "../../src/events/index.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { checkPartitionCount, connectNats, PipelinedPublisher, provision, redactUrl, storedIdsSince } from "../../src/io/nats/index.ts";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";
import { FORMATS, formatNamed } from "./formats.ts";
import { parseLogTime } from "./format.ts";
import { TerminalProgress } from "./progress.ts";
import { DEFAULT_BUFFER_EVENTS, replayFile, summaryLine, type ReplayReport } from "./replay.ts";
import { JetStreamSink } from "./sink.ts";
import type { ReplaySpeed } from "./pacer.ts";

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Aborts the replay (Ctrl-C): it stops at once, even in a wait for an event's time; the publishes
   * under way are flushed and the summary, with how many events were read and not published, printed.
   */
  signal?: AbortSignal;
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

export const USAGE = `usage: npm run simulator -- replay --format <name> [--speed <factor>|max] [--buffer <events>] [--start <ISO time>] FILE

Publishes a real log as events to the NATS server at NATS_URL (required; replay starts no server).
  --format   ${Object.values(FORMATS)
    .map((f) => `${f.name}: ${f.summary}`)
    .join("\n             ")}
  --speed    log time per wall time, e.g. 1 (as logged), 3600 (a log hour a second), or max (default:
             as fast as the bus takes it)
  --buffer   events held to put the log back in time order (default ${DEFAULT_BUFFER_EVENTS})
  --start    where the log's clock starts, for formats whose rows have no time (hillstrom)
Exit status: 0 done (malformed rows are reported, not fatal), 1 a failure (NATS, file, publishes), 2 usage.`;

export interface ReplayArgs {
  format: string;
  speed: ReplaySpeed;
  bufferEvents: number;
  startMs: number | undefined;
  file: string;
}

/** The command line → arguments, or a ReplayError (code Usage) naming what is wrong. */
export function parseReplayArgs(args: string[]): ReplayArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      tokens: true,
      options: { format: { type: "string" }, speed: { type: "string" }, buffer: { type: "string" }, start: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (err) {
    throw new ReplayError(PS_ERR_REPLAY.Usage, (err as Error).message);
  }
  const v = parsed.values;
  if (v.help) throw new ReplayError(PS_ERR_REPLAY.Usage, "");
  // A flag given twice (`--format segment --format hillstrom`) would silently run with the last value.
  const given = new Map<string, string[]>();
  for (const t of parsed.tokens ?? []) if (t.kind === "option") given.set(t.name, [...(given.get(t.name) ?? []), t.value ?? ""]);
  for (const [name, vs] of given) if (vs.length > 1) throw new ReplayError(PS_ERR_REPLAY.Usage, `--${name} is given ${vs.length} times (${vs.map((x) => `'${x}'`).join(", ")}): give it once`);
  if (!v.format) throw new ReplayError(PS_ERR_REPLAY.Usage, `--format is required: one of ${Object.keys(FORMATS).join(", ")}`);
  if (!formatNamed(v.format)) throw new ReplayError(PS_ERR_REPLAY.Usage, `unknown --format '${v.format}': use one of ${Object.keys(FORMATS).join(", ")}`);
  let speed: ReplaySpeed = "max";
  if (v.speed !== undefined && v.speed !== "max") {
    const x = Number(v.speed);
    if (!(v.speed.trim() !== "" && Number.isFinite(x) && x > 0)) throw new ReplayError(PS_ERR_REPLAY.Usage, `--speed must be a positive number or max, got '${v.speed}'`);
    speed = x;
  }
  let bufferEvents = DEFAULT_BUFFER_EVENTS;
  if (v.buffer !== undefined) {
    const x = Number(v.buffer);
    if (!(/^\d+$/.test(v.buffer) && Number.isSafeInteger(x))) throw new ReplayError(PS_ERR_REPLAY.Usage, `--buffer must be a whole number of events, got '${v.buffer}'`);
    bufferEvents = x;
  }
  let startMs: number | undefined;
  if (v.start !== undefined) {
    startMs = parseLogTime(v.start);
    if (startMs === undefined) throw new ReplayError(PS_ERR_REPLAY.Usage, `--start must be a time between 2000 and 2100 like 2008-03-01T00:00:00Z, got '${v.start}'`);
  }
  // After the values: `--speed FILE` took the file as its value, and that is what to say (not "FILE is missing").
  if (parsed.positionals.length !== 1)
    throw new ReplayError(PS_ERR_REPLAY.Usage, parsed.positionals.length ? `one FILE expected, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}` : "FILE is missing");
  return { format: v.format, speed, bufferEvents, startMs, file: parsed.positionals[0]! };
}

async function connect(cfg: Readonly<Config>, log: pino.Logger): Promise<NatsConnection> {
  const url = cfg.nats.url;
  if (!url)
    throw new ReplayError(
      PS_ERR_REPLAY.NatsUrlUnset,
      "NATS_URL is not set: replay publishes to a running NATS server with JetStream and starts none itself; set NATS_URL, e.g. NATS_URL=nats://127.0.0.1:4222 (npm start runs one there)",
    );
  try {
    return await connectNats(cfg.nats, url, "promo-stream-replay", log);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    throw new ReplayError(PS_ERR_REPLAY.NatsUnreachable, `cannot reach NATS at ${redactUrl(url)} (NATS_URL): ${cause}; start nats-server -js there or point NATS_URL at a running one`, { cause: err });
  }
}

/** Ids read at most from EVENTS at the start (about 100 bytes each: 100 MB). */
export const STORED_IDS_MAX = 1_000_000;

/**
 * The msg ids EVENTS holds, when it holds any stored before its duplicate window: the server drops a
 * repeated id only within that window (120 s by default), so a replay started again after a crash, or
 * the same file replayed the next day, stored every event a second time (and the summary said none was
 * already there). Undefined when the stream is younger than half its window: the server drops those copies.
 */
async function readStoredIds(nc: NatsConnection, cfg: Readonly<Config>, say: (s: string) => void, signal: AbortSignal): Promise<ReadonlySet<string> | undefined> {
  const stream = cfg.streams.events.name;
  try {
    const st = (await (await jetstreamManager(nc)).streams.info(stream)).state;
    if (st.messages === 0 || Date.now() - Date.parse(st.first_ts) < (cfg.streams.events.duplicateWindowSec * 1000) / 2) return undefined;
    // A Ctrl-C stops the read (about 11 µs an id: seconds for a large stream) and the replay after it.
    const r = await storedIdsSince(nc, stream, 0, { max: STORED_IDS_MAX, signal });
    if (r.truncated)
      say(`${stream} holds more than ${STORED_IDS_MAX} events: only the first ${r.ids.size} ids were read, so an event of this log stored after them is published again if it is older than the stream's duplicate window`);
    return r.ids;
  } catch (err) {
    throw new ReplayError(PS_ERR_REPLAY.NatsUnreachable, `cannot read the ids ${stream} holds (to publish no event twice): ${(err as Error).message}`, { cause: err });
  }
}

/** Runs the replay command; resolves to the process exit status. */
export async function replayCli(args: string[], io: CliIo = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const say = (s: string) => io.stderr.write(`${s}\n`);
  let a: ReplayArgs;
  try {
    a = parseReplayArgs(args);
  } catch (err) {
    const msg = (err as Error).message;
    say(msg ? `replay: ${msg}\n\n${USAGE}` : USAGE);
    // --help asked for the usage: not a mistake (eval's --help exits 0 too).
    return msg ? 2 : 0;
  }
  let cfg: Readonly<Config>;
  try {
    cfg = loadConfig({ env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return 2;
    }
    throw err;
  }
  const format = formatNamed(a.format)!;
  // Logs go to stderr: stdout carries the summary line only.
  const log = pino({ name: "promo-stream:replay", level: io.env.LOG_LEVEL ?? "warn" }, pino.destination({ fd: 2, sync: true }));
  let nc: NatsConnection | undefined;
  let report: ReplayReport | undefined;
  // Ctrl-C (or SIGTERM: a service manager's, `timeout`'s, a container's stop) stops reading and
  // publishing, flushes what is in flight and still prints the summary. SIGTERM used to be swallowed:
  // the progress bar (cli-progress, gracefulExit) stops itself on it, which ends nothing, so the replay
  // went on publishing; only a second SIGTERM killed it, without the summary.
  const ac = new AbortController();
  io.signal?.addEventListener("abort", () => ac.abort());
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled ??= sig;
    ac.abort();
  };
  if (io.signal === undefined) for (const sig of STOP_SIGNALS) process.once(sig, onSignal);
  try {
    try {
      await access(a.file, constants.R_OK);
    } catch (err) {
      throw new ReplayError(PS_ERR_REPLAY.FileUnreadable, `cannot read ${a.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    nc = await connect(cfg, log);
    try {
      await provision(nc, cfg, log);
    } catch (err) {
      throw new ReplayError(PS_ERR_REPLAY.NatsUnreachable, `NATS at ${redactUrl(cfg.nats.url)} (NATS_URL) answers but the streams cannot be set up: ${(err as Error).message}`, { cause: err });
    }
    // Routed by the partitioned processors' count, or refused (src/io/nats/partition-count.ts).
    await checkPartitionCount(nc, cfg.kv.leaseBucket, cfg.partitions, false);
    const storedIds = await readStoredIds(nc, cfg, say, ac.signal);
    const sink = new JetStreamSink(new PipelinedPublisher(nc, cfg.simulator.maxInFlightPublishes));
    report = await replayFile({
      file: a.file,
      format,
      sink,
      subjects: new Subjects(cfg.nats.subjectPrefix),
      partitions: cfg.partitions,
      maxEventBytes: cfg.processor.maxEventBytes,
      speed: a.speed,
      bufferEvents: a.bufferEvents,
      ...(a.startMs !== undefined ? { startMs: a.startMs } : {}),
      ...(storedIds ? { storedIds } : {}),
      progress: new TerminalProgress(`replay ${format.name}`, { stream: io.stderr }),
      signal: ac.signal,
    });
  } catch (err) {
    if (err instanceof ReplayError) {
      say(`replay: ${err.message}`);
      return 1;
    }
    if (err instanceof ConfigError) {
      say(err.message);
      return 2;
    }
    throw err;
  } finally {
    for (const sig of STOP_SIGNALS) process.removeListener(sig, onSignal);
    await nc?.drain().catch(() => undefined);
  }
  if (report.malformed > 0) {
    say(`${report.malformed} malformed rows were not published; the first ${report.malformedExamples.length}:`);
    for (const e of report.malformedExamples) say(`  line ${e.line}: ${e.reason}\n    ${e.text}`);
  }
  if (report.rejectedExamples.length > 0) {
    const n = Object.values(report.calls?.rejected ?? {}).reduce((a, b) => a + b, 0);
    say(`${n} calls were rejected (not published); the first ${report.rejectedExamples.length}:`);
    for (const e of report.rejectedExamples) say(`  line ${e.line}: ${e.reason}: ${e.text}`);
  }
  if (report.late > 0) say(`${report.late} events were older than ones already published (out of time order by more than --buffer ${a.bufferEvents}); they were published anyway`);
  if (report.failed > 0) say(`${report.failed} events could not be published after retries: ${report.lastError ?? "unknown error"}`);
  io.stdout.write(`${summaryLine(report)}\n`);
  // The shell's convention: 128 + the signal's number.
  if (report.aborted) return signalled === "SIGTERM" ? 143 : 130;
  return report.failed > 0 ? 1 : 0;
}
