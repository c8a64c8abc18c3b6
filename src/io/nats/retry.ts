import type { Logger } from "../../log/index.ts";
import { retryWithBackoff } from "./backoff.ts";
import { isTransientJetStreamError, NatsError, PS_ERR_NATS } from "./errors.ts";

/** 200 ms doubling to 2 s: a cluster electing its leaders answers within seconds. */
const STARTUP_BACKOFF = [200, 400, 800, 1_600, 2_000];

/**
 * Runs `fn`, retrying transient JetStream errors with backoff for up to `forMs` (a cluster that is
 * starting or recovering answers "jetstream is not enabled" or times out for a few seconds).
 */
export async function retryTransient<T>(what: string, fn: () => Promise<T>, log: Logger, forMs = 60_000): Promise<T> {
  const deadline = Date.now() + forMs;
  try {
    return await retryWithBackoff(fn, {
      policy: STARTUP_BACKOFF,
      retry: (err) => isTransientJetStreamError(err) && Date.now() <= deadline,
      onRetry: (err, attempt) => log.warn({ err: (err as Error).message, attempt, what }, "JetStream not ready yet; retrying"),
    });
  } catch (err) {
    if (!isTransientJetStreamError(err)) throw err;
    // Still "not ready" after the whole wait: most often a server started without JetStream, which no
    // wait cures. The client's bare error ended the program naming neither NATS_URL nor the fix.
    throw new NatsError(
      PS_ERR_NATS.JetStreamUnavailable,
      `${what}: JetStream did not answer for ${Math.round(forMs / 1000)} s (${(err as Error).message}); fix: start nats-server with JetStream (-js, or a jetstream {} block in its config), or point NATS_URL at a server that has it`,
      { cause: err },
    );
  }
}
