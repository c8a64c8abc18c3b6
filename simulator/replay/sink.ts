// Where replayed events go: JetStream, through the project's PipelinedPublisher (many publishes in
// flight, each with its Nats-Msg-Id so the server drops a repeat). A publish that fails is retried
// with the same id, a few times with backoff; one that still fails is counted, never lost unseen.
import { retryWithBackoff, type PipelinedPublisher } from "../../src/io/nats/index.ts";

export interface SinkStats {
  /** Acknowledged by the server (new or duplicate). */
  published: number;
  /** Of those, already in the stream (same Nats-Msg-Id within the duplicate window). */
  duplicates: number;
  /** Given up on after every retry. */
  failed: number;
  lastError: string | undefined;
}

export interface EventSink {
  publish(subject: string, data: Uint8Array, msgID: string): Promise<void>;
  /** Waits until every publish started has been acknowledged or given up on. */
  flush(): Promise<void>;
  readonly stats: SinkStats;
}

export class JetStreamSink implements EventSink {
  private readonly retrying = new Set<Promise<void>>();
  private givenUp = 0;

  constructor(
    private readonly publisher: PipelinedPublisher,
    private readonly attempts = 5,
  ) {}

  get stats(): SinkStats {
    return { published: this.publisher.published, duplicates: this.publisher.duplicates, failed: this.givenUp, lastError: this.publisher.lastError?.message };
  }

  async publish(subject: string, data: Uint8Array, msgID: string): Promise<void> {
    const { acked } = await this.publisher.publish(subject, data, msgID);
    void acked.then((r) => {
      if (!r.ok) this.retry(subject, data, msgID);
    });
  }

  private retry(subject: string, data: Uint8Array, msgID: string): void {
    const p = retryWithBackoff(
      async () => {
        const r = await (await this.publisher.publish(subject, data, msgID)).acked;
        if (!r.ok) throw r.error;
      },
      { policy: [200, 400, 800, 1_600, 2_000], retry: (_err, attempt) => attempt + 2 < this.attempts },
    )
      .catch(() => void this.givenUp++)
      .finally(() => this.retrying.delete(p));
    this.retrying.add(p);
  }

  async flush(): Promise<void> {
    for (;;) {
      await this.publisher.flush();
      if (this.retrying.size === 0) return;
      await Promise.all([...this.retrying]);
    }
  }
}
