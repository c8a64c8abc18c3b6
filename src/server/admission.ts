// Who gets in when decide requests come faster than they can be answered (issue 22: "overload sheds at
// once, and the event stream's consumer lag is unaffected"). A bound on requests in flight alone does
// not do it: with a 50 ms deadline, 500 in flight admit 10,000 requests a second, far past what the
// server, nats-server and the processor can take on two cores, so under overload every request
// waited seconds in the server's own queue and most timed out, while the extra events slowed the
// stream. Admission here sheds a share of requests, raised while recent requests time out or the
// server's event loop is saturated, lowered while they are answered in time: what is refused costs a
// 503 and nothing else (nothing is published for it). A saturated loop counts only in windows where
// decide requests came in numbers (MIN_ANSWERS or more): in one process with the processor and the
// simulator at max speed the loop is always busy, and the shop page's few requests, which cost it nothing,
// were refused 96% of the time (192 of 200, one every 50 ms).
//
// Hand-written: a few lines of additive-increase/multiplicative-style control over two signals the
// server has at hand (its answers' timeouts, its event loop's utilisation); the adaptive-concurrency
// libraries of the field (Netflix's concurrency-limits) are for the JVM.
import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** How often the signals are read and the share adjusted. */
export const ADMISSION_WINDOW_MS = 100;
const STEP_UP = 0.2;
const STEP_DOWN = 0.05;
const MAX_SHED = 0.95;
/** A window in which more than this share of answered requests timed out is an overloaded one. */
const TIMEOUT_SHARE = 0.1;
/** An event loop busy more than this share of a window cannot take more requests… */
const BUSY_LOOP = 0.9;
/** …when it stays so for this many windows in a row (a start-up, a collection or a checkpoint is not an overload). */
const BUSY_WINDOWS = 3;
/** Answers a window needs before its timeouts say anything, and requests before its busy loop does. */
const MIN_ANSWERS = 5;

export class Admission {
  /** The share of requests refused now (0: all admitted). */
  shedShare = 0;
  private answered = 0;
  private timedOut = 0;
  /** Requests asked to be admitted in this window, shed ones included. */
  private asked = 0;
  private elu: EventLoopUtilization | undefined;
  private busyWindows = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly random: () => number = Math.random) {}

  start(): void {
    this.elu = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.adjust(), ADMISSION_WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Whether to admit one more request. */
  admit(): boolean {
    this.asked++;
    return this.shedShare === 0 || this.random() >= this.shedShare;
  }

  /** An admitted request was answered: in time, or with a timeout. */
  answeredWith(timedOut: boolean): void {
    this.answered++;
    if (timedOut) this.timedOut++;
  }

  /** One window's signals → the share to shed. Exposed for tests. */
  adjust(loopBusyShare?: number): void {
    let busy = loopBusyShare;
    if (busy === undefined && this.elu) {
      const now = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(now, this.elu).utilization;
      this.elu = now;
    }
    // A loop kept busy by other work (the processor, a simulator in the same process) is not relieved by
    // refusing a handful of requests: only a window with requests in numbers reads it.
    this.busyWindows = (busy ?? 0) > BUSY_LOOP && this.asked >= MIN_ANSWERS ? this.busyWindows + 1 : 0;
    const overloaded = (this.answered >= MIN_ANSWERS && this.timedOut / this.answered > TIMEOUT_SHARE) || this.busyWindows >= BUSY_WINDOWS;
    this.shedShare = overloaded ? Math.min(MAX_SHED, this.shedShare + STEP_UP) : Math.max(0, this.shedShare - STEP_DOWN);
    this.answered = 0;
    this.timedOut = 0;
    this.asked = 0;
  }
}
