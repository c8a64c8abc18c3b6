// One retry loop for the shell (issue 15: three hand-written loops had drifted apart: start-up
// provisioning, the processor's republish of failed decisions, the simulator's republish of events).
// The delays come from nats.js's own `backoff` (a policy table with jitter), the one the client uses
// for its JetStream API retries.
import { backoff, delay } from "@nats-io/transport-node";

/** Delays in ms by attempt; the last one repeats. */
export type BackoffPolicy = readonly number[];

/** 100 ms doubling to 2 s: a publish or an API call the server will take again in a moment. */
export const SHORT_BACKOFF: BackoffPolicy = [100, 200, 400, 800, 1_600, 2_000];

export interface RetryOptions {
  policy?: BackoffPolicy;
  /** Whether to try again after `err` (attempt is 0 for the first try). Default: always. */
  retry?: (err: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn(attempt)` until it resolves; after a rejection it waits the policy's delay for that
 * attempt and calls again, unless `retry` says no (then the last error is thrown as it is).
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const bo = backoff([...(o.policy ?? SHORT_BACKOFF)]);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.retry && !o.retry(err, attempt)) throw err;
      const ms = bo.backoff(attempt);
      o.onRetry?.(err, attempt, ms);
      await delay(ms);
    }
  }
}
