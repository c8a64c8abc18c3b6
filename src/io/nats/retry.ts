import type { Logger } from "../../log/index.ts";
import { retryWithBackoff } from "./backoff.ts";
import { isTransientJetStreamError } from "./errors.ts";

/** 200 ms doubling to 2 s: a cluster electing its leaders answers within seconds. */
const STARTUP_BACKOFF = [200, 400, 800, 1_600, 2_000];

/**
 * Runs `fn`, retrying transient JetStream errors with backoff for up to `forMs` (a cluster that is
 * starting or recovering answers "jetstream is not enabled" or times out for a few seconds).
 */
export async function retryTransient<T>(what: string, fn: () => Promise<T>, log: Logger, forMs = 60_000): Promise<T> {
  const deadline = Date.now() + forMs;
  return retryWithBackoff(fn, {
    policy: STARTUP_BACKOFF,
    retry: (err) => isTransientJetStreamError(err) && Date.now() <= deadline,
    onRetry: (err, attempt) => log.warn({ err: (err as Error).message, attempt, what }, "JetStream not ready yet; retrying"),
  });
}
