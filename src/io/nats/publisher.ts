import { headers, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, type PubAck } from "@nats-io/jetstream";

/**
 * JetStream publishes with a bounded number awaiting their ack. Publishing never serialises on acks
 * (issue #7: one awaited publish at a time gives ~12k msg/s, pipelined far more); when the bound is
 * reached, `publish` waits for the oldest to settle. Each publish hands back `acked`, which resolves
 * true once the server stored it and false if it failed, so callers can retry exactly what failed.
 */
export class PipelinedPublisher {
  readonly js: JetStreamClient;
  private readonly inflight = new Set<Promise<boolean>>();
  published = 0;
  duplicates = 0;
  failures = 0;
  lastError: Error | undefined;

  constructor(nc: NatsConnection, readonly maxInFlight: number, readonly timeoutMs = 10_000) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  get pending(): number {
    return this.inflight.size;
  }

  async publish(subject: string, data: Uint8Array, msgID?: string, hdrs?: Record<string, string>): Promise<{ acked: Promise<boolean> }> {
    while (this.inflight.size >= this.maxInFlight) await Promise.race(this.inflight);
    let h;
    if (hdrs) {
      h = headers();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    }
    const acked: Promise<boolean> = this.js
      .publish(subject, data, { ...(msgID ? { msgID } : {}), ...(h ? { headers: h } : {}), timeout: this.timeoutMs })
      .then(
        (ack: PubAck) => {
          this.published++;
          if (ack.duplicate) this.duplicates++;
          return true;
        },
        (err: Error) => {
          this.failures++;
          this.lastError = err;
          return false;
        },
      )
      .finally(() => this.inflight.delete(acked));
    this.inflight.add(acked);
    return { acked };
  }

  /** Waits until every publish started so far has settled; true when all were stored. */
  async flush(): Promise<boolean> {
    let ok = true;
    while (this.inflight.size) for (const r of await Promise.all([...this.inflight])) ok &&= r;
    return ok;
  }
}
