// Speed control for replay: log time runs `speed` times as fast as the wall clock from the first
// event on (2 = a log hour in half an hour); "max" never waits, so the bus's backpressure (the
// publisher's in-flight bound) sets the pace. Due times are computed from the first event, not
// from the previous one, so waits that are skipped or overshoot never add up to drift.

export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout's longest delay (2³¹−1 ms, about 24.8 days): a longer one fires after 1 ms, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const end = performance.now() + ms;
      let timer: ReturnType<typeof setTimeout>;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      // A gap in the log longer than the longest timer (a month at --speed 1) waits in steps.
      const arm = () => {
        const left = end - performance.now();
        if (left <= 0) return done();
        timer = setTimeout(left > MAX_TIMER_MS ? arm : done, Math.min(left, MAX_TIMER_MS));
      };
      arm();
      signal?.addEventListener("abort", done, { once: true });
    }),
};

export type ReplaySpeed = number | "max";

export class Pacer {
  private origin: { logMs: number; wallMs: number } | undefined;
  /** Total time spent waiting (ms). */
  waitedMs = 0;

  constructor(
    readonly speed: ReplaySpeed,
    private readonly clock: Clock = realClock,
  ) {
    if (speed !== "max" && !(Number.isFinite(speed) && speed > 0)) throw new RangeError(`speed must be a positive number or "max", got ${speed}`);
  }

  /**
   * Resolves when the wall clock reaches the moment `logMs` maps to (at once for an event already due),
   * or when `signal` aborts: a Ctrl-C during an hour's gap in a log at --speed 1 stops at once.
   */
  async waitFor(logMs: number, signal?: AbortSignal): Promise<void> {
    if (this.speed === "max") return;
    if (!this.origin) {
      this.origin = { logMs, wallMs: this.clock.now() };
      return;
    }
    const due = this.origin.wallMs + (logMs - this.origin.logMs) / this.speed;
    const wait = due - this.clock.now();
    // Under a millisecond is not worth a timer (setTimeout rounds up to 1 ms); the next due time catches up.
    if (wait >= 1) {
      this.waitedMs += wait;
      await this.clock.sleep(wait, signal);
    }
  }
}
