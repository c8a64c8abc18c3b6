import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/** One JSON line per record on stdout. Credentials never reach a log call (see io/nats/connect). */
export function createLogger(level: string, name = "promo-stream", destination?: DestinationStream): Logger {
  return destination ? pino({ name, level, base: { pid: process.pid } }, destination) : pino({ name, level, base: { pid: process.pid } });
}

/** Logs a given kind of problem once (the first time), counting the rest silently. */
export class OncePerKind {
  private readonly seen = new Set<string>();
  constructor(private readonly log: Logger) {}
  warn(kind: string, obj: Record<string, unknown>, msg: string): void {
    if (this.seen.has(kind)) return;
    this.seen.add(kind);
    this.log.warn({ kind, ...obj }, `${msg} (logged once per kind; see metrics for counts)`);
  }
}
