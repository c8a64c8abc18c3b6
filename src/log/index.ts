import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { build as prettyStream } from "pino-pretty";

export type Logger = PinoLogger;

/**
 * One JSON line per record on stdout, for machines (log shippers, tests, `| jq`); when stdout is a
 * terminal, the same records as readable lines (pino-pretty: time, level, name, message, then the
 * fields). Written synchronously in this process so nothing is lost to process.exit after Ctrl-C;
 * log calls are rare on the hot paths (OncePerKind), so formatting costs nothing that shows.
 * Credentials never reach a log call (see io/nats/connect).
 */
export function createLogger(level: string, name = "promo-stream", destination?: DestinationStream): Logger {
  const opts = { name, level, base: { pid: process.pid } };
  if (destination) return pino(opts, destination);
  if (process.stdout.isTTY) return pino(opts, prettyStream({ colorize: true, sync: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
  return pino(opts);
}

/** Logs a given kind of problem once (the first time), counting the rest silently. */
export class OncePerKind {
  private readonly seen = new Set<string>();
  constructor(private readonly log: Logger) {}
  warn(kind: string, obj: Record<string, unknown>, msg: string): void {
    this.at("warn", kind, obj, msg);
  }
  /** The same, at error level: a kind that means something of ours is wrong, not the input. */
  error(kind: string, obj: Record<string, unknown>, msg: string): void {
    this.at("error", kind, obj, msg);
  }
  private at(level: "warn" | "error", kind: string, obj: Record<string, unknown>, msg: string): void {
    if (this.seen.has(kind)) return;
    this.seen.add(kind);
    this.log[level]({ kind, ...obj }, `${msg} (logged once per kind; see metrics for counts)`);
  }
}
