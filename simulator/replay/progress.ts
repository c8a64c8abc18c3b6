// Progress of a replay on the terminal, drawn by cli-progress: a live bar on stderr when stderr is a
// TTY, and when it is not (a CI log, a pipe) one plain progress line every few seconds instead of
// cursor codes (cli-progress's noTTYOutput/notTTYSchedule).
import { SingleBar } from "cli-progress";

export interface ProgressState {
  rowsDone: number;
  eventsPublished: number;
  malformed: number;
  skipped: number;
  /** Event time of the latest event sent (ms since the epoch), if any. */
  logTs: number | undefined;
}

export interface ProgressReporter {
  start(totalRows: number): void;
  update(s: ProgressState): void;
  stop(): void;
}

export const noProgress: ProgressReporter = { start() {}, update() {}, stop() {} };

const n = (x: number) => Math.round(x).toLocaleString("en-US");

export interface TerminalProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds between plain lines when the stream is not a TTY. */
  plainEveryMs?: number;
}

export class TerminalProgress implements ProgressReporter {
  private readonly bar: SingleBar;
  private readonly tty: boolean;
  private t0 = 0;

  constructor(private readonly label: string, opts: TerminalProgressOptions = {}) {
    const stream = opts.stream ?? process.stderr;
    this.tty = stream.isTTY === true;
    this.bar = new SingleBar({
      stream: stream as NodeJS.WritableStream,
      noTTYOutput: true,
      notTTYSchedule: opts.plainEveryMs ?? 5_000,
      hideCursor: true,
      gracefulExit: true,
      barsize: 24,
      format: (options, params, payload: { events?: number; rate?: number; malformed?: number; logTs?: number }) => {
        const pct = params.total > 0 ? Math.min(100, Math.floor((params.value / params.total) * 100)) : 0;
        const size = options.barsize ?? 24;
        const filled = Math.round((pct / 100) * size);
        const bar = this.tty ? `[${"█".repeat(filled)}${"░".repeat(size - filled)}] ` : "";
        const log = payload.logTs !== undefined ? ` | log ${new Date(payload.logTs).toISOString().slice(0, 16).replace("T", " ")}` : "";
        return `${this.label} ${bar}${pct}% | ${n(params.value)}/${n(params.total)} rows | ${n(payload.events ?? 0)} events | ${n(payload.rate ?? 0)} ev/s${log} | malformed ${n(payload.malformed ?? 0)}`;
      },
    });
  }

  start(totalRows: number): void {
    this.t0 = performance.now();
    this.bar.start(Math.max(0, totalRows), 0, { events: 0, rate: 0, malformed: 0 });
  }

  update(s: ProgressState): void {
    const sec = (performance.now() - this.t0) / 1000;
    if (s.rowsDone > this.bar.getTotal()) this.bar.setTotal(s.rowsDone);
    this.bar.update(s.rowsDone, { events: s.eventsPublished, rate: sec > 0 ? s.eventsPublished / sec : 0, malformed: s.malformed, logTs: s.logTs });
  }

  stop(): void {
    this.bar.stop();
  }
}
