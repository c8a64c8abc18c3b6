// The shop's inventory events, for partitioned processors: each is applied to the global ledger in KV
// (the stock units are granted from) and copied as a `stock` event into every partition, so each
// partition's engine sees stock, price and cost in its own stream, in order. One durable consumer is
// shared by all instances: each inventory event is handled by one of them.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { copyId, decodeEvent, encodeEvent, Subjects } from "../events/index.ts";
import { PipelinedPublisher, type Stored } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";
import type { GlobalLedger } from "./ledger.ts";

export class InventoryKeeper {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly publisher: PipelinedPublisher;
  private readonly subjects: Subjects;
  readonly name: string;
  handled = 0;

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
    const stream = this.cfg.streams.events.name;
    try {
      await jsm.consumers.info(stream, this.name);
    } catch {
      await jsm.consumers
        .add(stream, {
          durable_name: this.name,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: `${this.subjects.prefix}events.inventory.>`,
          ack_wait: nanos(30_000),
          max_deliver: -1,
        })
        .catch(() => undefined); // another instance created it first
    }
    const c = await jetstream(this.nc).consumers.get(stream, this.name);
    this.messages = await c.consume({ max_messages: 200 });
    this.loop = this.run(this.messages).catch((err: Error) => this.log.error({ err: err.message }, "inventory keeper stopped"));
  }

  private async run(msgs: ConsumerMessages): Promise<void> {
    for await (const m of msgs) {
      const d = decodeEvent(m.data, this.cfg.processor.maxEventBytes);
      if (!d.ok || d.value.type !== "inventory") {
        // Not an inventory event: the partitions never see it, and the processor of the whole stream
        // is not running; say so once per message and move on.
        this.log.warn({ subject: m.subject, seq: m.seq, reason: d.ok ? "wrong type" : d.reason }, "unreadable inventory event skipped");
        m.ack();
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
          m.ack();
          this.handled++;
        } else m.nak(500);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, seq: m.seq }, "inventory event not applied; it will be redelivered");
        m.nak(500);
      }
    }
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
    await this.publisher.flush();
  }
}
