import type { Logger } from "../../log/index.ts";

/** Errors a JetStream cluster answers while starting or electing leaders: worth retrying shortly. */
export function isTransientJetStreamError(err: unknown): boolean {
  return /not enabled|timeout|no responders|leader|unavailable|insufficient resources/i.test((err as Error)?.message ?? "");
}

/**
 * Runs `fn`, retrying transient JetStream errors with backoff for up to `forMs` (a cluster that is
 * starting or recovering answers "jetstream is not enabled" or times out for a few seconds).
 */
export async function retryTransient<T>(what: string, fn: () => Promise<T>, log: Logger, forMs = 60_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientJetStreamError(err) || Date.now() > deadline) throw err;
      log.warn({ err: (err as Error).message, attempt, what }, "JetStream not ready yet; retrying");
      await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * 2 ** attempt)));
    }
  }
}
