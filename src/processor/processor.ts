// The processor's driver (Kafka Streams' StreamTask): pull events from JetStream, run the pure engine,
// hand what it decided to the publish-and-ack queue. The parts it drives:
//   positioner.ts     where the durable consumer starts after a restore
//   publish-queue.ts  publishes in order, acks only after they are stored
//   checkpointer.ts   when and how the state is written to KV
//   monitor.ts        lag, losses, latency, health, per-label counters
//   control.ts        promo.control: a promotion change becomes an event in the log
import { jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { rngFromKey, type Rng } from "../random/index.ts";
import { createEngine, engineConfigFrom, outcomeRecord, startTracking, step, type Engine, type Promotion } from "../engine/index.ts";
import { decodeEvent, encodeDecision, encodeOutcome, PS_ERR_EVENT, Subjects, type DeadLetterReason } from "../events/index.ts";
import { DeadLetters, PipelinedPublisher } from "../io/nats/index.ts";
import { buildSnapshot, KpiAccumulator } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { Checkpointer } from "./checkpointer.ts";
import { streamSeqOf } from "./delivery.ts";
import { PromotionControl } from "./control.ts";
import { Monitor } from "./monitor.ts";
import { positionConsumer } from "./positioner.ts";
import { PublishAckQueue, type QueuedPublish } from "./publish-queue.ts";
import type { ProcessorHealth, ProcessorSnapshot } from "./types.ts";

const INTERNAL_SUBJECT = /(^|\.)events\.(stock|allowance|sync)\.\d+$/;
/** Queued publishes handed to the publisher at least this often while a backlog is handled. */
const SEND_BATCH = 64;
/** Per-label counters reach prom-client at least this often (in events) while a backlog is handled. */
const COUNT_EVERY = 1024;

/**
 * The event's generator, rngFromKey(seed, event id), made at its first draw: the same draws in the
 * same order. Only decision points draw; seeding a generator for the four events in five that draw
 * nothing cost ~90 of the ~2,800 bytes the engine's path allocates per event, and 0.2% of the CPU.
 */
class EventRng implements Rng {
  private rng: Rng | undefined;
  constructor(
    private readonly seed: number,
    private readonly key: string,
  ) {}
  next(): number {
    return (this.rng ??= rngFromKey(this.seed, this.key)).next();
  }
}

/** How a processor is placed: the whole stream (default), or one partition of a partitioned deployment. */
export interface ProcessorOptions {
  /** Consume only `events.*.<partition>`, with its own durable consumer and checkpoint. */
  partition?: number;
  /** Publish kpi.snapshot and answer promo.control itself (false when an instance does it for its partitions). */
  standalone?: boolean;
  /** Someone else wrote this processor's checkpoint: another instance owns the partition now. */
  onFenced?: () => void;
}

export class Processor {
  engine: Engine;
  kpi = new KpiAccumulator();
  readonly subjects: Subjects;
  /** The durable consumer's name, also the checkpoint's key. */
  readonly name: string;
  readonly partition: number | undefined;
  private readonly standalone: boolean;
  private readonly publisher: PipelinedPublisher;
  private readonly queue: PublishAckQueue;
  private readonly checkpointer: Checkpointer;
  private readonly monitor: Monitor;
  private readonly deadLetters: DeadLetters;
  private jsm!: JetStreamManager;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  /** The loop ended on an error: nothing is consumed until the processor is restarted. */
  private loopFailed = false;
  private timers: NodeJS.Timeout[] = [];
  private control: PromotionControl | undefined;
  private stopping = false;
  private eventsIn = 0;
  private readonly enc = new TextEncoder();
  /** Stream sequence of the last event the engine's state reflects. */
  private stateSeq = 0;
  /** Events up to this stream sequence were handled before a restart: their publishes are already stored. */
  private suppressUpTo = 0;
  private replaying = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    opts: ProcessorOptions = {},
  ) {
    const p = cfg.processor;
    this.partition = opts.partition;
    this.standalone = opts.standalone ?? true;
    this.name = opts.partition === undefined ? p.durable : `${p.durable}-p${opts.partition}`;
    this.engine = createEngine(engineConfigFrom(cfg), { trackChanges: true });
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.publisher = new PipelinedPublisher(nc, p.maxInFlightPublishes);
    this.queue = new PublishAckQueue(this.publisher, {
      onRetry: (failures, attempt) =>
        log.warn({ err: failures[0]?.message, codes: [...new Set(failures.map((f) => f.code))], attempt, failed: failures.length }, "publishes failed; retrying them with the same msg ids"),
    });
    this.checkpointer = new Checkpointer(nc, cfg.kv.stateBucket, this.name, { everyEvents: p.checkpointEveryEvents, everyMs: p.checkpointEverySec * 1000, onFenced: opts.onFenced }, metrics, log);
    this.monitor = new Monitor(nc, cfg.streams.events.name, this.name, metrics, log);
    this.deadLetters = new DeadLetters(
      (subject, data, msgID, hdrs) => {
        this.publish({ subject, data, msgID, hdrs });
        return Promise.resolve();
      },
      this.subjects.deadletter,
      metrics,
      log,
    );
  }

  /**
   * Restores the newest checkpoint (if any) and points the durable consumer just after the stream
   * sequence it reflects, so the events since are replayed through the same engine. Events the previous
   * run had already acknowledged (up to its ack floor) had their decisions and outcomes stored before
   * the ack, so their publishes are skipped while they replay; later ones are published again with the
   * same msg ids, which the DECISIONS and OUTCOMES duplicate windows drop.
   */
  private async restoreAndPosition(): Promise<void> {
    const p = this.cfg.processor;
    const loaded = await this.checkpointer.load(engineConfigFrom(this.cfg));
    if (loaded) {
      this.engine = loaded.engine;
      this.kpi = loaded.kpi;
      this.stateSeq = loaded.streamSeq;
      this.log.info({ streamSeq: loaded.streamSeq, format: loaded.format, parts: loaded.parts, bytes: loaded.bytes, customers: loaded.engine.features.size }, "restored checkpoint");
    } else startTracking(this.engine, this.engine.features.size > 0);
    const start = this.stateSeq + 1;
    const { ackFloor } = await positionConsumer(this.jsm, {
      stream: this.cfg.streams.events.name,
      durable: this.name,
      startSeq: start,
      filter: this.partition !== undefined ? this.subjects.eventsOfPartition(this.partition) : this.subjects.eventsAll,
      partitioned: this.partition !== undefined,
      ackWaitMs: p.ackWaitSec * 1000,
      maxAckPending: Math.max(p.flushEveryMessages * 4, p.batchSize * 4, 10_000),
    });
    this.suppressUpTo = ackFloor;
    if (ackFloor >= start) this.log.info({ from: start, upTo: ackFloor }, "replaying events handled before the restart (their publishes are skipped)");
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.nc);
    await this.restoreAndPosition();
    const consumer = await this.publisher.js.consumers.get(this.cfg.streams.events.name, this.name);
    // Pull requests expire after 5 s (heartbeats every 2.5 s), so a pull stranded on a server that died
    // is noticed and re-issued in seconds, not after the client's default 30 s.
    this.messages = await consumer.consume({ max_messages: this.cfg.processor.batchSize, expires: 5_000 });
    this.monitor.start(this.jsm, this.messages);
    this.loop = this.run(this.messages).catch((err) => {
      // Nothing is consumed any more: /health says so (not consuming), for a supervisor to restart it.
      this.loopFailed = true;
      this.log.error({ err }, "processor loop failed; no longer consuming (/health reports it): restart the processor");
    });
    this.timers.push(setInterval(() => void this.queue.flush().catch(() => undefined), this.cfg.processor.flushEveryMs));
    if (this.standalone) {
      this.timers.push(setInterval(() => this.publishSnapshot(), this.cfg.processor.snapshotEveryMs));
      this.control = new PromotionControl(
        this.nc,
        this.publisher,
        this.subjects,
        { partitions: this.cfg.partitions, maxEventBytes: this.cfg.processor.maxEventBytes, list: () => [...this.engine.promotions.keys()] },
        this.metrics,
        this.log,
      );
      this.control.start();
    }
    this.log.info({ durable: this.name }, "processor consuming");
  }

  /**
   * The hot loop (bench/: pipeline section and its profile). Per message it awaits nothing but the
   * iterator unless it must: the publisher's window is full, a dead letter, a checkpoint. Publishes
   * are handed to the publisher together once the consumer's buffered messages are handled (or every
   * SEND_BATCH), so one socket write carries many: nats.js flushes its outbound buffer on the first
   * microtask after a publish, and a write per decision was 12% of the processor's CPU. A flush (the
   * ack of a batch) is started here but not awaited: the loop keeps handling while the server stores
   * the batch's publishes, and the ack still goes out only after they are stored.
   */
  private async run(msgs: ConsumerMessages): Promise<void> {
    const flushEvery = this.cfg.processor.flushEveryMessages;
    let uncounted = 0;
    for await (const m of msgs) {
      const wait = this.handle(m);
      if (wait) await wait;
      this.queue.handled(m);
      this.checkpointer.noteEvent();
      const idle = msgs.getPending() === 0;
      if (idle || ++uncounted >= COUNT_EVERY) {
        this.monitor.flushCounts();
        uncounted = 0;
      }
      if (this.queue.waiting >= SEND_BATCH || idle) {
        const sending = this.queue.send();
        if (sending) await sending;
      }
      // One checkpoint write at a time: while the last one is still being written, the next waits.
      if (this.checkpointer.due(Date.now())) await this.checkpoint();
      else if (this.queue.handledSinceFlush >= flushEvery && !this.queue.isFlushing) void this.queue.flush().catch(() => undefined);
    }
  }

  /** Checkpoints the state at this message boundary (see Checkpointer.checkpoint). */
  checkpoint(opts: { wait?: boolean } = {}): Promise<void> {
    return this.checkpointer.checkpoint(() => ({ seq: this.stateSeq, engine: this.engine, kpi: this.kpi }), () => this.queue.flush(), opts);
  }

  /** Waits until every publish so far is stored and the newest handled message acknowledged. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Queues a publish, unless it replays an event whose publishes were stored before the restart (then false). */
  private publish(u: QueuedPublish): boolean {
    if (this.replaying) {
      this.metrics.replaySuppressed.inc();
      return false;
    }
    this.queue.push(u);
    return true;
  }

  /** Undefined when the message is done; a promise (rare: dead letters) to await before the next. */
  private handle(m: JsMsg): Promise<void> | undefined {
    const seq = streamSeqOf(m);
    if (seq <= this.stateSeq) {
      // Redelivered (e.g. the server restarted before our ack reached its disk): the state already
      // holds this event; it is acknowledged again and nothing else happens.
      this.metrics.redelivered.inc();
      return undefined;
    }
    this.eventsIn++;
    this.replaying = seq <= this.suppressUpTo;
    // (Only for a consumer of the whole stream: a partition's consumer skips other partitions' sequences.)
    if (this.partition === undefined && seq > this.stateSeq + 1) this.monitor.lost(seq - this.stateSeq - 1, this.stateSeq + 1, seq - 1);
    this.stateSeq = seq;
    const t0 = performance.now();
    // Internal events of partitioned processors (sync tables) may be larger than a shopper's event.
    const internal = this.partition !== undefined && INTERNAL_SUBJECT.test(m.subject);
    const decoded = decodeEvent(m.data, internal ? this.cfg.streams.events.maxMsgBytes : this.cfg.processor.maxEventBytes);
    if (!decoded.ok) {
      this.monitor.eventsIn("invalid").inc();
      this.kpi.onDeadLetter(decoded.reason);
      return this.deadLetter(decoded.reason, decoded.detail, m);
    }
    const ev = decoded.value;
    this.monitor.eventsIn(ev.type).inc();
    const subject = m.subject;
    if (!this.subjects.isOfType(subject, ev.type)) {
      const subjectType = this.subjects.typeOf(subject);
      this.kpi.onDeadLetter(PS_ERR_EVENT.SubjectMismatch);
      return this.deadLetter(PS_ERR_EVENT.SubjectMismatch, `subject says ${subjectType}, payload says ${ev.type}`, m, ev.id);
    }
    const before = ev.type === "promotion" ? this.engine.promotions.get(ev.promotion.id) : undefined;
    const effects = step(this.engine, ev, new EventRng(this.cfg.processor.seed, ev.id));
    if (ev.type === "promotion" && !this.replaying) this.promotionApplied(before, ev.promotion.id);
    let wait: Promise<void> | undefined;
    for (const eff of effects) {
      if (eff.kind === "decision") {
        const d = eff.decision;
        this.monitor.decideLatency((performance.now() - t0) * 1000);
        this.kpi.onDecision(d);
        this.monitor.decisionsOut(d.channel, d.promotionId).inc();
        this.publish({ subject: this.subjects.decision(d.channel), data: encodeDecision(d), msgID: d.id });
      } else if (eff.kind === "deadletter") {
        this.kpi.onDeadLetter(eff.reason);
        // Queued at once (DeadLetters.send publishes before its first await); awaited in order.
        const dl = this.deadLetter(eff.reason, eff.detail, m, ev.id);
        wait = wait ? wait.then(() => dl) : dl;
      } else {
        const o = eff.outcome;
        this.kpi.onOutcome(o);
        this.monitor.outcomes(o.cause).inc();
        // Through the same queue as the decisions: the batch's ack waits for it to be stored, and a
        // replay after a crash publishes it again under the same msg id, which OUTCOMES drops.
        const r = outcomeRecord(o);
        if (this.publish({ subject: this.subjects.outcome(r.channel), data: encodeOutcome(r), msgID: r.id })) this.monitor.outcomesOut(r.channel, r.closedBy).inc();
      }
    }
    return wait;
  }

  /** Says so when a promotion change changed something (a processor of every partition sees each change once per partition). */
  private promotionApplied(before: Promotion | undefined, id: string): void {
    const after = this.engine.promotions.get(id);
    if (before && JSON.stringify(before) === JSON.stringify(after)) return;
    this.log.info({ promotion: id, isNew: before === undefined }, before ? "promotion updated" : "promotion added");
  }

  private deadLetter(reason: DeadLetterReason, detail: string, m: JsMsg, eventId?: string): Promise<void> {
    return this.deadLetters.send(reason, detail, { subject: m.subject, data: m.data, seq: m.seq, ...(eventId ? { eventId } : {}) }, Date.now());
  }

  health(): ProcessorHealth {
    return this.monitor.health(this.loop !== undefined && !this.stopping && !this.loopFailed);
  }

  snapshot(): ProcessorSnapshot {
    this.monitor.flushCounts();
    const base = buildSnapshot(this.engine, this.kpi, Date.now());
    this.metrics.cacheCustomers.set(base.cache.customers);
    this.metrics.cacheEvictions.set(base.cache.evictions);
    this.metrics.cacheBytes.set(this.engine.features.memoryBytes);
    this.metrics.cacheExpirations.set(base.cache.expirations);
    this.metrics.pendingDecisions.set(base.pending);
    return { ...base, latencyMs: this.monitor.latencyMs(), consumer: this.monitor.consumer(), eventsIn: this.eventsIn, health: this.health() };
  }

  private publishSnapshot(): void {
    try {
      const s = this.snapshot();
      if (!this.nc.isClosed()) this.nc.publish(this.subjects.kpiSnapshot, this.enc.encode(JSON.stringify(s)));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "snapshot publish failed");
    }
  }

  /** Stops pulling, finishes what was pulled, flushes publishes and acks, writes the last checkpoint. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.queue.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.monitor.stop();
    this.control?.stop();
    await this.control?.drain();
    this.messages?.stop();
    await this.loop;
    this.monitor.flushCounts();
    try {
      await this.checkpoint({ wait: true });
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "final flush failed; unacknowledged events will be redelivered");
    }
    if (this.standalone) this.publishSnapshot();
    this.log.info({ eventsIn: this.eventsIn, decisions: this.kpi.decisions }, "processor stopped");
  }
}
