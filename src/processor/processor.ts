// The processor's shell: pull events from JetStream, run the pure engine, publish what it decided,
// acknowledge only after those publishes were acknowledged by the server.
import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { Value } from "@sinclair/typebox/value";
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import { PromotionSchema, type Config, type PromotionConfig } from "../config/index.ts";
import { rngFromKey } from "../random/index.ts";
import { createEngine, engineConfigFrom, engineFromJSON, EngineSnapshot, promotionFrom, addPromotion, step, ENGINE_STATE_VERSION, type Engine, type EngineState } from "../engine/index.ts";
import { decodeEvent, encodeDecision, PS_ERR_EVENT, Subjects, type DeadLetterReason, type ShopEvent } from "../events/index.ts";
import { DeadLetters, PipelinedPublisher } from "../io/nats/index.ts";
import { buildSnapshot, KpiAccumulator, type KpiState, type LiveSnapshot } from "../kpi/index.ts";
import { CheckpointStore, PS_ERR_STATE, StateError } from "../state/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";

export type ProcessorSnapshot = LiveSnapshot;

const INTERNAL_SUBJECT = /(^|\.)events\.(stock|allowance|sync)\.\d+$/;
/** Queued publishes handed to the publisher at least this often while a backlog is handled. */
const SEND_BATCH = 64;
/** A checkpoint's serialisation runs in slices of about this many ms between the loop's turns. */
const SNAPSHOT_SLICE_MS = 2;

/** How long /health stays degraded after events were lost to stream limits. */
const LOSS_REPORT_MS = 10 * 60_000;
export type ProcessorHealth = LiveSnapshot["health"];

interface Unacked {
  subject: string;
  data: Uint8Array;
  msgID?: string | undefined;
  hdrs?: Record<string, string> | undefined;
  acked?: Promise<boolean>;
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

/** What a checkpoint holds. */
export interface ProcessorState {
  engine: EngineState;
  kpi: KpiState;
}

export class Processor {
  engine: Engine;
  kpi = new KpiAccumulator();
  readonly subjects: Subjects;
  private readonly publisher: PipelinedPublisher;
  private readonly deadLetters: DeadLetters;
  private jsm!: JetStreamManager;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private lastMsg: JsMsg | undefined;
  private sinceFlush = 0;
  /** Publishes since the last ack, kept so a failed batch can be republished (msg ids dedupe). */
  private unacked: Unacked[] = [];
  private flushing: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;
  /** Publishes decided but not yet handed to the publisher (see run). */
  private queued: Unacked[] = [];
  private timers: NodeJS.Timeout[] = [];
  private subs: Subscription[] = [];
  private stopping = false;
  private eventsIn = 0;
  private lat: Histogram;
  private latPrev: Histogram;
  private consumerOk = false;
  private consumerLag = 0;
  private ackPending = 0;
  private degraded: string[] = [];
  private latest: ProcessorSnapshot | undefined;
  private readonly enc = new TextEncoder();
  private readonly checkpoints: CheckpointStore<ProcessorState>;
  /** Stream sequence of the last event the engine's state reflects. */
  private stateSeq = 0;
  private sinceCheckpoint = 0;
  private lastCheckpointMs = Date.now();
  /** Events up to this stream sequence were handled before a restart: their publishes are already stored. */
  private suppressUpTo = 0;

  /** The durable consumer's name, also the checkpoint's key. */
  readonly name: string;
  readonly partition: number | undefined;
  private readonly standalone: boolean;
  private readonly onFenced: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    opts: ProcessorOptions = {},
  ) {
    this.partition = opts.partition;
    this.standalone = opts.standalone ?? true;
    this.onFenced = opts.onFenced;
    this.name = opts.partition === undefined ? cfg.processor.durable : `${cfg.processor.durable}-p${opts.partition}`;
    this.engine = createEngine(engineConfigFrom(cfg));
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.publisher = new PipelinedPublisher(nc, cfg.processor.maxInFlightPublishes);
    this.deadLetters = new DeadLetters(
      (subject, data, msgID, hdrs) => {
        this.publish({ subject, data, msgID, hdrs });
        return Promise.resolve();
      },
      this.subjects.deadletter,
      metrics,
      log,
    );
    this.checkpoints = new CheckpointStore<ProcessorState>(nc, cfg.kv.stateBucket, this.name);
    this.lat = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
    this.latPrev = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
  }

  /**
   * Restores the newest checkpoint (if any) and points the durable consumer just after the stream
   * sequence it reflects, so the events since are replayed through the same engine. Events the previous
   * run had already acknowledged (up to its ack floor) had their decisions stored before the ack, so
   * their publishes are skipped while they replay; later ones are published again with the same msg
   * ids, which the DECISIONS duplicate window drops.
   */
  private async restoreAndPosition(): Promise<void> {
    const p = this.cfg.processor;
    const stream = this.cfg.streams.events.name;
    await this.checkpoints.open();
    let loaded = await this.checkpoints.load();
    if (loaded && loaded.state.engine.version !== ENGINE_STATE_VERSION) {
      // A checkpoint of an older engine (issue #14 changed what the models hold): rebuild the state by
      // replaying the stream from its start; what the previous run acknowledged is not published again.
      this.log.warn({ version: loaded.state.engine.version, expected: ENGINE_STATE_VERSION }, "checkpoint from another engine version; rebuilding the state from the start of the stream");
      loaded = undefined;
    }
    if (loaded) {
      this.engine = engineFromJSON(engineConfigFrom(this.cfg), loaded.state.engine);
      this.kpi = KpiAccumulator.fromJSON(loaded.state.kpi);
      this.stateSeq = loaded.head.streamSeq;
      this.log.info({ streamSeq: loaded.head.streamSeq, generation: loaded.head.generation, bytes: loaded.head.bytes }, "restored checkpoint");
    }
    let ackFloor = 0;
    try {
      const ci = await this.jsm.consumers.info(stream, this.name);
      ackFloor = ci.ack_floor.stream_seq;
      await this.jsm.consumers.delete(stream, this.name);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
    }
    this.suppressUpTo = ackFloor;
    const start = this.stateSeq + 1;
    // No filter when EVENTS holds nothing but events (provisioned so): it would select everything
    // anyway, and nats-server 2.9.10 makes a filtered pull consumer that falls behind its stream
    // recount the pending messages by scanning the stream's blocks for every message it delivers
    // (stack: loopAndGatherMsgs → numPending → FilteredState). Measured with bench/ (issue #7):
    // the pipeline drained 900 events/s with `events.>` as filter and 11,900 without, same input.
    const si = await this.jsm.streams.info(stream);
    const onlyEvents = si.config.subjects?.length === 1 && si.config.subjects[0] === this.subjects.eventsAll;
    await this.jsm.consumers.add(stream, {
      durable_name: this.name,
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
      ...(this.partition !== undefined ? { filter_subject: this.subjects.eventsOfPartition(this.partition) } : onlyEvents ? {} : { filter_subject: this.subjects.eventsAll }),
      ack_wait: nanos(p.ackWaitSec * 1000),
      max_ack_pending: Math.max(p.flushEveryMessages * 4, p.batchSize * 4, 10_000),
      max_deliver: -1,
    });
    if (ackFloor >= start) this.log.info({ from: start, upTo: ackFloor }, "replaying events handled before the restart (their publishes are skipped)");
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.nc);
    await this.restoreAndPosition();
    const consumer = await this.publisher.js.consumers.get(this.cfg.streams.events.name, this.name);
    // Pull requests expire after 5 s (heartbeats every 2.5 s), so a pull stranded on a server that died
    // is noticed and re-issued in seconds, not after the client's default 30 s.
    this.messages = await consumer.consume({ max_messages: this.cfg.processor.batchSize, expires: 5_000 });
    this.consumerOk = true;
    void this.watchStatus(this.messages).catch(() => undefined);
    this.loop = this.run(this.messages).catch((err) => {
      this.log.error({ err }, "processor loop failed");
    });
    this.timers.push(setInterval(() => void this.flush().catch(() => undefined), this.cfg.processor.flushEveryMs));
    if (this.standalone) this.timers.push(setInterval(() => this.publishSnapshot(), this.cfg.processor.snapshotEveryMs));
    this.timers.push(setInterval(() => void this.pollConsumer(), 2_000));
    this.timers.push(
      setInterval(() => {
        // Latency percentiles over the last 10–20 s: rotate two histograms.
        const t = this.latPrev;
        t.reset();
        this.latPrev = this.lat;
        this.lat = t;
      }, 10_000),
    );
    void this.pollConsumer();
    if (this.standalone)
      this.subs.push(
      this.nc.subscribe(this.subjects.promoControl, {
        callback: (err, m) => {
          if (err) return;
          let reply: unknown;
          try {
            reply = this.promoControl(m.json());
          } catch (e) {
            reply = { ok: false, error: `not JSON: ${(e as Error).message}` };
          }
          m.respond(this.enc.encode(JSON.stringify(reply)));
        },
      }),
    );
    this.log.info({ durable: this.name }, "processor consuming");
  }

  private async watchStatus(msgs: ConsumerMessages): Promise<void> {
    for await (const s of msgs.status()) {
      if (s.type === "consumer_not_found" || s.type === "stream_not_found" || s.type === "consumer_deleted") {
        this.consumerOk = false;
        this.log.error({ status: s.type }, "consumer or stream missing");
      } else if (s.type === "heartbeats_missed") this.log.warn({ count: s.count }, "consumer heartbeats missed");
      else if (s.type === "next") this.consumerOk = true;
    }
  }

  /**
   * The hot loop (bench/: pipeline section and its profile). Per message it awaits nothing but the
   * iterator unless it must: the publisher's window is full, a dead letter, a checkpoint. Publishes
   * are handed to the publisher together once the consumer's buffered messages are handled (or every
   * SEND_BATCH), so one socket write carries many: nats.js flushes its outbound buffer on the first
   * microtask after a publish, and a write per decision was 12% of the processor's CPU. The ack of a
   * batch is started here but not awaited: the loop keeps handling while the server stores the
   * batch's publishes, and the ack still goes out only after they are stored (doFlush).
   */
  private async run(msgs: ConsumerMessages): Promise<void> {
    const p = this.cfg.processor;
    const checkpointEveryMs = p.checkpointEverySec * 1000;
    for await (const m of msgs) {
      const wait = this.handle(m);
      if (wait) await wait;
      this.lastMsg = m;
      this.sinceFlush++;
      this.sinceCheckpoint++;
      if (this.queued.length >= SEND_BATCH || msgs.getPending() === 0) {
        const sending = this.sendQueued();
        if (sending) await sending;
      }
      // One checkpoint write at a time: while the last one is still being written, the next waits.
      if (!this.saving && (this.sinceCheckpoint >= p.checkpointEveryEvents || Date.now() - this.lastCheckpointMs >= checkpointEveryMs)) await this.checkpoint();
      else if (this.sinceFlush >= p.flushEveryMessages && !this.flushing) void this.flush().catch(() => undefined);
    }
  }

  /** The checkpoint being written, if any: one at a time. */
  private saving: Promise<void> | undefined;

  /**
   * Takes the state at this message boundary and writes it beside the loop: the loop stops only to
   * copy the small parts and list the large ones (`ps_checkpoint_pause_seconds`); the customers, open
   * decisions and recent ids are serialised in slices of SNAPSHOT_SLICE_MS between the loop's turns,
   * copy-on-write (`EngineSnapshot`). The checkpoint is written once every publish it covers is stored
   * (a checkpoint must never cover a decision that could still be lost: the flush started here covers
   * everything handled up to now). `wait` awaits all of it, and lets a failed flush throw (as on stop).
   */
  async checkpoint(opts: { wait?: boolean } = {}): Promise<void> {
    await this.saving;
    const t0 = performance.now();
    const seq = this.stateSeq;
    const snap = new EngineSnapshot(this.engine);
    const kpi = JSON.stringify(this.kpi.toJSON());
    this.sinceCheckpoint = 0;
    this.lastCheckpointMs = Date.now();
    this.metrics.checkpointPauseSeconds.observe((performance.now() - t0) / 1000);
    const flushed = this.flush();
    if (opts.wait) await flushed;
    const serialised = opts.wait ? Promise.resolve(snap.json()) : inSlices(snap);
    // Settles only once the snapshot is done, even if the flush fails first: the next checkpoint
    // must not begin while this one's snapshot is still under way.
    flushed.catch(() => undefined);
    const json = serialised.then(async (engine) => {
      await flushed;
      return `{"engine":${engine},"kpi":${kpi}}`;
    });
    const job = json.then((text) => this.checkpoints.save(text, seq)).then(
      (head) => {
        this.metrics.checkpoints.inc();
        this.metrics.checkpointBytes.set(head.bytes);
        this.metrics.checkpointSeconds.observe((performance.now() - t0) / 1000);
      },
      (err: Error) => {
        this.log.error({ err: err.message }, "checkpoint failed; the previous one stays valid");
        if (err instanceof StateError && err.code === PS_ERR_STATE.Conflict) this.onFenced?.();
      },
    );
    this.saving = job.finally(() => (this.saving = undefined));
    if (opts.wait) await this.saving;
  }

  /** Queues a publish (sent by sendQueued); it counts as unacked from now on. */
  private publish(u: Unacked): void {
    if (this.replaying) {
      this.metrics.replaySuppressed.inc();
      return;
    }
    this.unacked.push(u);
    this.queued.push(u);
  }

  /**
   * Hands the queued publishes to the publisher, in order. Undefined when all went out; otherwise
   * the window is full and the promise resolves once the rest did.
   */
  private sendQueued(): Promise<void> | undefined {
    const q = this.queued;
    let i = 0;
    for (; i < q.length; i++) {
      const u = q[i]!;
      const acked = this.publisher.tryPublish(u.subject, u.data, u.msgID, u.hdrs);
      if (!acked) break;
      u.acked = acked;
    }
    if (i === q.length) {
      q.length = 0;
      return undefined;
    }
    q.splice(0, i);
    return this.publisher.room().then(() => this.sendQueued());
  }

  private replaying = false;

  private eventsLost = 0;
  private lastLossMs = 0;

  /** Undefined when the message is done; a promise (rare: dead letters) to await before the next. */
  private handle(m: JsMsg): Promise<void> | undefined {
    if (m.seq <= this.stateSeq) {
      // Redelivered (e.g. the server restarted before our ack reached its disk): the state already
      // holds this event; it is acknowledged again and nothing else happens.
      this.metrics.redelivered.inc();
      return undefined;
    }
    this.eventsIn++;
    const seq = m.seq;
    this.replaying = seq <= this.suppressUpTo;
    // The consumer reads the whole stream in order, so a jump in sequence means events were removed
    // (max age, max bytes) before the processor read them: lost, and said so.
    // (Only for a consumer of the whole stream: a partition's consumer skips other partitions' sequences.)
    if (this.partition === undefined && seq > this.stateSeq + 1) {
      const lost = seq - this.stateSeq - 1;
      this.eventsLost += lost;
      this.lastLossMs = Date.now();
      this.metrics.eventsLost.inc(lost);
      this.log.error({ lost, from: this.stateSeq + 1, to: seq - 1 }, "events were removed by stream limits before the processor read them");
    }
    this.stateSeq = seq;
    const t0 = performance.now();
    // Internal events of partitioned processors (sync tables) may be larger than a shopper's event.
    const internal = this.partition !== undefined && INTERNAL_SUBJECT.test(m.subject);
    const decoded = decodeEvent(m.data, internal ? this.cfg.streams.events.maxMsgBytes : this.cfg.processor.maxEventBytes);
    if (!decoded.ok) {
      this.eventsInBy("invalid").inc();
      this.kpi.onDeadLetter(decoded.reason);
      return this.deadLetter(decoded.reason, decoded.detail, m);
    }
    const ev: ShopEvent = decoded.value;
    this.eventsInBy(ev.type).inc();
    const subjectType = this.subjects.typeOf(m.subject);
    if (subjectType !== ev.type) {
      this.kpi.onDeadLetter(PS_ERR_EVENT.SubjectMismatch);
      return this.deadLetter(PS_ERR_EVENT.SubjectMismatch, `subject says ${subjectType}, payload says ${ev.type}`, m, ev.id);
    }
    const effects = step(this.engine, ev, rngFromKey(this.cfg.processor.seed, ev.id));
    let wait: Promise<void> | undefined;
    for (const eff of effects) {
      if (eff.kind === "decision") {
        const d = eff.decision;
        const us = (performance.now() - t0) * 1000;
        this.lat.recordValue(Math.max(1, Math.round(us)));
        this.metrics.decideLatency.observe(us / 1e6);
        this.kpi.onDecision(d);
        this.decisionsOutBy(d.channel, d.promotionId).inc();
        this.publish({ subject: this.subjects.decision(d.channel), data: encodeDecision(d), msgID: d.id });
      } else if (eff.kind === "deadletter") {
        this.kpi.onDeadLetter(eff.reason);
        // Queued at once (DeadLetters.send publishes before its first await); awaited in order.
        const dl = this.deadLetter(eff.reason, eff.detail, m, ev.id);
        wait = wait ? wait.then(() => dl) : dl;
      } else {
        this.kpi.onOutcome(eff.outcome);
        this.outcomesBy(eff.outcome.cause).inc();
      }
    }
    return wait;
  }

  // prom-client children per label value, looked up once: a labelled inc() hashes its labels on
  // every call, and these run per event and per decision (bench/ profile of the processor).
  private readonly eventsInChildren = new Map<string, { inc(): void }>();
  private eventsInBy(type: string): { inc(): void } {
    let c = this.eventsInChildren.get(type);
    if (!c) this.eventsInChildren.set(type, (c = this.metrics.eventsIn.labels({ type })));
    return c;
  }
  private readonly decisionsOutChildren = new Map<string, Map<string, { inc(): void }>>();
  private decisionsOutBy(channel: string, arm: string): { inc(): void } {
    let byArm = this.decisionsOutChildren.get(channel);
    if (!byArm) this.decisionsOutChildren.set(channel, (byArm = new Map()));
    let c = byArm.get(arm);
    if (!c) byArm.set(arm, (c = this.metrics.decisionsOut.labels({ channel, arm })));
    return c;
  }
  private readonly outcomesChildren = new Map<string, { inc(): void }>();
  private outcomesBy(cause: string): { inc(): void } {
    let c = this.outcomesChildren.get(cause);
    if (!c) this.outcomesChildren.set(cause, (c = this.metrics.outcomes.labels({ cause })));
    return c;
  }
  private deadLetter(reason: DeadLetterReason, detail: string, m: JsMsg, eventId?: string): Promise<void> {
    return this.deadLetters.send(reason, detail, { subject: m.subject, data: m.data, seq: m.seq, ...(eventId ? { eventId } : {}) }, Date.now());
  }

  /**
   * Waits for every publish since the last ack, then acks the newest processed message (AckPolicy.All
   * acknowledges everything before it too). On a publish failure it republishes the batch, with the
   * same msg ids, until the server takes it: nothing is acknowledged before its effects are stored.
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.doFlush().finally(() => (this.flushing = undefined));
      return this.flushing;
    }
    // The flush under way covers only what was handled before it began: a caller (a checkpoint
    // above all) waits for one more, covering everything handled up to its call.
    this.nextFlush ??= this.flushing
      .catch(() => undefined)
      .then(() => {
        this.nextFlush = undefined;
        return this.flush();
      });
    return this.nextFlush;
  }

  private async doFlush(): Promise<void> {
    const last = this.lastMsg;
    let batch = this.unacked;
    if (!last && batch.length === 0) return;
    this.unacked = [];
    this.sinceFlush = 0;
    // Everything in the batch must have gone out before its acks are awaited.
    const sending = this.sendQueued();
    if (sending) await sending;
    for (let attempt = 0; batch.length; attempt++) {
      const results = await Promise.all(batch.map((u) => u.acked ?? Promise.resolve(false)));
      batch = batch.filter((_, i) => !results[i]);
      if (!batch.length) break;
      if (this.stopping && attempt >= 10) throw new Error(`${batch.length} publishes still failing at shutdown: ${this.publisher.lastError?.message}`);
      this.log.warn({ err: this.publisher.lastError?.message, attempt, failed: batch.length }, "publishes failed; retrying them with the same msg ids");
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      for (const u of batch) u.acked = (await this.publisher.publish(u.subject, u.data, u.msgID, u.hdrs)).acked;
    }
    if (last && last === this.lastMsg) this.lastMsg = undefined;
    last?.ack();
  }

  private async pollConsumer(): Promise<void> {
    try {
      const ci = await this.jsm.consumers.info(this.cfg.streams.events.name, this.name);
      this.consumerOk = true;
      this.consumerLag = ci.num_pending;
      this.ackPending = ci.num_ack_pending;
      this.metrics.consumerLag.set(ci.num_pending);
      this.metrics.consumerAckPending.set(ci.num_ack_pending);
      const si = await this.jsm.streams.info(this.cfg.streams.events.name);
      const usage = si.config.max_bytes > 0 ? si.state.bytes / si.config.max_bytes : 0;
      this.metrics.streamUsage.set({ stream: si.config.name }, usage);
      const degraded: string[] = [];
      if (usage >= 0.9) degraded.push(`stream ${si.config.name} is ${(usage * 100).toFixed(0)}% full (max_bytes ${si.config.max_bytes}); the oldest events are being discarded`);
      if (this.eventsLost > 0 && Date.now() - this.lastLossMs < LOSS_REPORT_MS)
        degraded.push(`${this.eventsLost} events were removed by stream limits before the processor read them`);
      if (degraded.join() !== this.degraded.join()) {
        if (degraded.length) this.log.warn({ degraded }, "processor degraded");
        else this.log.info("processor no longer degraded");
      }
      this.degraded = degraded;
    } catch (err) {
      this.consumerOk = false;
      this.log.warn({ err: (err as Error).message }, "consumer info failed");
    }
  }

  health(): ProcessorHealth {
    const nats = !this.nc.isClosed() && !this.nc.isDraining();
    const consuming = this.loop !== undefined && !this.stopping;
    return { ok: nats && consuming && this.consumerOk, consuming, nats, consumer: this.consumerOk, degraded: [...this.degraded] };
  }

  snapshot(): ProcessorSnapshot {
    const base = buildSnapshot(this.engine, this.kpi, Date.now());
    const h = this.lat.totalCount > 0 ? this.lat : this.latPrev;
    this.metrics.cacheCustomers.set(base.cache.customers);
    this.metrics.cacheEvictions.set(base.cache.evictions);
    this.metrics.cacheExpirations.set(base.cache.expirations);
    this.metrics.pendingDecisions.set(base.pending);
    return {
      ...base,
      latencyMs: { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, count: h.totalCount },
      consumer: { lag: this.consumerLag, ackPending: this.ackPending },
      eventsIn: this.eventsIn,
      health: this.health(),
    };
  }

  private publishSnapshot(): void {
    try {
      this.latest = this.snapshot();
      if (!this.nc.isClosed()) this.nc.publish(this.subjects.kpiSnapshot, this.enc.encode(JSON.stringify(this.latest)));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "snapshot publish failed");
    }
  }

  /** promo.control requests: {"op":"upsert","promotion":{…}} adds or changes one; {"op":"list"} lists them. */
  promoControl(req: unknown): { ok: boolean; error?: string; promotions?: string[] } {
    const r = req as { op?: unknown; promotion?: unknown } | null;
    if (r?.op === "list") return { ok: true, promotions: [...this.engine.promotions.keys()] };
    if (r?.op !== "upsert") return { ok: false, error: 'op must be "upsert" or "list"' };
    if (!Value.Check(PromotionSchema, r.promotion)) {
      const e = Value.Errors(PromotionSchema, r.promotion).First();
      return { ok: false, error: `promotion invalid at ${e?.path || "/"}: ${e?.message}` };
    }
    const p = r.promotion as PromotionConfig;
    if (p.id === "control") return { ok: false, error: "'control' is reserved" };
    this.upsertPromotion(p);
    return { ok: true, promotions: [...this.engine.promotions.keys()] };
  }

  /** Adds or replaces a promotion at runtime; a new one starts from the prior and is explored. */
  upsertPromotion(p: PromotionConfig): void {
    const isNew = !this.engine.promotions.has(p.id);
    addPromotion(this.engine, promotionFrom(p));
    this.log.info({ promotion: p.id, isNew }, isNew ? "promotion added" : "promotion updated");
  }

  /** Stops pulling, finishes what was pulled, flushes publishes and acks. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const sub of this.subs) sub.unsubscribe();
    this.messages?.stop();
    await this.loop;
    try {
      await this.checkpoint({ wait: true });
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "final flush failed; unacknowledged events will be redelivered");
    }
    if (this.standalone) this.publishSnapshot();
    this.log.info({ eventsIn: this.eventsIn, decisions: this.kpi.decisions }, "processor stopped");
  }
}

/** Finishes a snapshot a slice at a time, each in its own turn of the event loop. */
function inSlices(snap: EngineSnapshot): Promise<string> {
  return new Promise((resolve, reject) => {
    const slice = () => {
      try {
        if (snap.step(SNAPSHOT_SLICE_MS)) resolve(snap.json());
        else setImmediate(slice);
      } catch (err) {
        reject(err as Error);
      }
    };
    setImmediate(slice);
  });
}
