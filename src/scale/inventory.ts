// The shop's inventory events, for partitioned processors: each is applied to the global ledger in KV
// (the stock units are granted from) and copied as a `stock` event into every partition, so each
// partition's engine sees stock, price and cost in its own stream, in order. One durable consumer is
// shared by all instances: each inventory event is handled by one of them. Deleted while they run (an
// operator's `nats consumer rm`), it is made again: without it no stock would reach a partition again,
// and offers would go on for what ran out.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { copyId, decodeEvent, encodeEvent, Subjects } from "../events/index.ts";
import { PipelinedPublisher, retryWithBackoff, type Stored } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";
import type { GlobalLedger } from "./ledger.ts";

export class InventoryKeeper {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly publisher: PipelinedPublisher;
  private readonly subjects: Subjects;
  readonly name: string;
  handled = 0;
  /** The stream sequence of the last inventory event this instance acknowledged (0: none yet). */
  private lastAcked = 0;
  /** Sequences delivered to this instance and not acknowledged (nak'd, or being handled): a remake starts at the lowest. */
  private readonly unacked = new Set<number>();
  private stopping = false;
  private remaking: Promise<void> | undefined;
  /** Bumped with each new messages: the status watch of earlier ones stops. */
  private generation = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly ledger: GlobalLedger,
    private readonly log: Logger,
  ) {
    this.publisher = new PipelinedPublisher(nc, 1000);
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.name = `${cfg.processor.durable}-inventory`;
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.consumers.info(this.cfg.streams.events.name, this.name);
    } catch {
      await this.create({});
    }
    await this.open();
  }

  /** Makes the shared consumer; one another instance made first is kept as it is. */
  private async create(from: Partial<ConsumerConfig>): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers
      .add(this.cfg.streams.events.name, {
        durable_name: this.name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${this.subjects.prefix}events.inventory.>`,
        ack_wait: nanos(30_000),
        max_deliver: -1,
        ...from,
      })
      .catch(() => undefined); // another instance created it first
  }

  private async open(): Promise<void> {
    const c = await jetstream(this.nc).consumers.get(this.cfg.streams.events.name, this.name);
    const msgs = await c.consume({ max_messages: 200 });
    this.messages = msgs;
    const generation = ++this.generation;
    this.loop = this.run(msgs).catch((err: Error) => this.log.error({ err: err.message }, "inventory keeper stopped"));
    void this.watch(msgs, generation);
  }

  private async watch(msgs: ConsumerMessages, generation: number): Promise<void> {
    for await (const s of msgs.status()) {
      if (generation !== this.generation || this.stopping) break;
      if (s.type === "consumer_not_found" || s.type === "consumer_deleted") {
        this.remaking ??= this.remake().finally(() => (this.remaking = undefined));
        break;
      }
    }
  }

  /**
   * The consumer is gone: made again after the last inventory event this instance acknowledged (from
   * the stream's first when it has acknowledged none; events another instance handled are handled again,
   * harmlessly: the ledger keeps the newest stock, and the copies' ids are the same), and read again.
   */
  private async remake(): Promise<void> {
    this.messages?.stop();
    await this.loop;
    // An event nak'd (its ledger write failed) before a later one was acknowledged is owed still: the
    // new consumer starts at the lowest sequence delivered here and not acknowledged.
    const start = Math.min(this.lastAcked + 1, ...this.unacked);
    // The old consumer's deliveries can no longer be acknowledged: the new one delivers them again.
    this.unacked.clear();
    const from: Partial<ConsumerConfig> = start > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start } : {};
    this.log.warn({ consumer: this.name, from: start }, "the inventory consumer is gone; making it again at the first inventory event this instance has not acknowledged");
    await retryWithBackoff(
      async () => {
        await this.create(from);
        if (!this.stopping) await this.open();
      },
      { retry: () => !this.stopping, onRetry: (err, attempt) => this.log.warn({ err: (err as Error).message, attempt }, "making the inventory consumer again failed; retrying") },
    );
  }

  private async run(msgs: ConsumerMessages): Promise<void> {
    for await (const m of msgs) {
      this.unacked.add(m.seq);
      const d = decodeEvent(m.data, this.cfg.processor.maxEventBytes);
      if (!d.ok || d.value.type !== "inventory") {
        // Not an inventory event: the partitions never see it, and the processor of the whole stream
        // is not running; say so once per message and move on.
        this.log.warn({ subject: m.subject, seq: m.seq, reason: d.ok ? "wrong type" : d.reason }, "unreadable inventory event skipped");
        this.ack(m);
        continue;
      }
      const ev = d.value;
      try {
        await this.ledger.setStock(ev.productId, ev.stock, ev.ts);
        const acks: Promise<Stored>[] = [];
        for (let k = 0; k < this.cfg.partitions; k++) {
          const copy = { ...ev, type: "stock" as const, id: copyId(ev.id, "s", k) };
          acks.push((await this.publisher.publish(this.subjects.partitioned("stock", k), encodeEvent(copy), copy.id)).acked);
        }
        if ((await Promise.all(acks)).every((r) => r.ok)) {
          this.ack(m);
          this.handled++;
        } else m.nak(500);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, seq: m.seq }, "inventory event not applied; it will be redelivered");
        m.nak(500);
      }
    }
  }

  /** Acknowledges a delivery, and keeps where a remade consumer must start (remake). */
  private ack(m: JsMsg): void {
    m.ack();
    this.unacked.delete(m.seq);
    this.lastAcked = Math.max(this.lastAcked, m.seq);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.remaking;
    this.messages?.stop();
    await this.loop;
    await this.publisher.flush();
  }
}
