import type { EventSink, SinkStats } from "../../simulator/replay/sink.ts";

/** Publishes into memory; a repeated msg id is a duplicate, as JetStream's Nats-Msg-Id makes it. */
export class MemorySink implements EventSink {
  readonly got: { subject: string; data: Uint8Array; id: string }[] = [];
  private readonly ids = new Set<string>();
  readonly stats: SinkStats = { published: 0, duplicates: 0, failed: 0, lastError: undefined };

  /** `onPublish` is told of each publish (its count so far), e.g. to interrupt the replay at one. */
  constructor(private readonly onPublish?: (n: number) => void) {}

  async publish(subject: string, data: Uint8Array, id: string): Promise<void> {
    this.stats.published++;
    this.onPublish?.(this.stats.published);
    if (this.ids.has(id)) {
      this.stats.duplicates++;
      return;
    }
    this.ids.add(id);
    this.got.push({ subject, data, id });
  }

  async flush(): Promise<void> {}
}
