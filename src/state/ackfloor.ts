// Which events' publishes are known stored, kept where a restart finds it. Positioning the processor's
// consumer (src/processor/positioner.ts) deletes the old consumer, whose ack floor was the only record
// of it; the run then kept it in memory alone. A crash during the replay that follows lost it, and the
// next start, once the duplicate windows had passed, stored the decisions of acknowledged events twice.
// So the floor is written here, beside the checkpoints, before a consumer is deleted.
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";

interface Kept {
  /** Events up to this stream sequence were acknowledged: their publishes are stored. */
  seq: number;
  /** The stream's creation time: a stream deleted and made again numbers its events from 1 anew. */
  streamCreated: string;
}

export class AckFloorStore {
  private kv: KV | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    /** The processor's name (its durable consumer's). */
    private readonly name: string,
    private readonly stream: string,
  ) {}

  private key(): string {
    return `${this.name}.acked`;
  }

  private async open(): Promise<KV> {
    this.kv ??= await new Kvm(this.nc).open(this.bucket);
    return this.kv;
  }

  /** The floor kept for this stream (0 when none, or when it was kept for a stream since made again). */
  async read(): Promise<number> {
    return (await this.current()).seq;
  }

  /** Keeps `seq` unless a higher floor is kept already (a failure throws: the consumer must not be deleted then). */
  async write(seq: number): Promise<void> {
    const { seq: kept, streamCreated } = await this.current();
    if (seq <= kept) return;
    await (await this.open()).put(this.key(), new TextEncoder().encode(JSON.stringify({ seq, streamCreated } satisfies Kept)));
  }

  /** The floor kept for the stream as it is now (its creation time read once), 0 when none applies. */
  private async current(): Promise<Kept> {
    const e = await (await this.open()).get(this.key());
    const streamCreated = (await this.jsm.streams.info(this.stream)).created;
    const kept = e && e.operation === "PUT" && e.length > 0 ? e.json<Kept>() : undefined;
    return { seq: kept && kept.streamCreated === streamCreated && Number.isSafeInteger(kept.seq) ? kept.seq : 0, streamCreated };
  }
}
