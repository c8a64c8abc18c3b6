// The processor's driver (Kafka Streams' StreamTask): pull events from JetStream, run the pure engine,
// hand what it decided to the publish-and-ack queue. The parts it drives:
//   positioner.ts     where the durable consumer starts after a restore
//   publish-queue.ts  publishes in order, acks only after they are stored
//   checkpointer.ts   when and how the state is written to KV
//   monitor.ts        lag, losses, latency, health, per-label counters
//   control.ts        promo.control: a promotion change becomes an event in the log
import { jetstreamManager, type ConsumerInfo, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { baselineNotes, type Config } from "../config/index.ts";
import { rngFromKey, type Rng } from "../random/index.ts";
import { createEngine, engineConfigFrom, outcomeRecord, startTracking, step, type Effect, type Engine, type Promotion } from "../engine/index.ts";
import { answerPublish, decodeEvent, encodeEvent, fitDecision, INTERNAL_EVENT_TYPES, NO_DECISION, partitionOf, PS_ERR_EVENT, Subjects, type DeadLetterReason, type DecideAnswer, type Decision } from "../events/index.ts";
import { DeadLetters, isNotFound, PipelinedPublisher, retryWithBackoff, storedAtFrom, storedIdsSince, type StoredIds } from "../io/nats/index.ts";
import { buildSnapshot, KpiAccumulator } from "../kpi/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { AckFloorStore, PS_ERR_STATE, StateError } from "../state/index.ts";
import { Checkpointer } from "./checkpointer.ts";
import { readDelivery, readPayload, type Delivery, type Payload } from "./delivery.ts";
import { PromotionControl } from "./control.ts";
import { setSnapshotGauges } from "./gauges.ts";
import { Monitor } from "./monitor.ts";
import { positionConsumer, type PositionRequest } from "./positioner.ts";
import { ProcessorError, PS_ERR_PROCESSOR } from "./errors.ts";
import { PublishAckQueue } from "./publish-queue.ts";
import type { ProcessorHealth, ProcessorSnapshot } from "./types.ts";

const INTERNAL_SUBJECT = /(^|\.)events\.(stock|allowance|sync)\.\d+$/;
/** Queued publishes handed to the publisher at least this often while a backlog is handled. */
const SEND_BATCH = 64;
/** Per-label counters reach prom-client at least this often (in events) while a backlog is handled. */
const COUNT_EVERY = 1024;
/**
 * Deliveries the server made and the loop never received, with nothing else arriving, for this long:
 * they died with a connection (issue 25) and would come again only after the ack wait.
 */
const STALLED_MS = 3_000;
/** Bytes a message's msg id header may take beside its payload (the stream counts both). */
const MSG_ID_HEADER_ROOM = 512;
/** Rounds of refused publishes after which /health reports the processor degraded (a cut network heals within a few). */
const PUBLISH_FAILING_ROUNDS = 5;
/** A pull request lives this long (heartbeats every half of it), so a pull stranded on a dead server is re-issued in seconds. */
const PULL_EXPIRES_MS = 5_000;
/**
 * Slack on the time from which a restart reads the ids DECISIONS and OUTCOMES stored (readStoredBeyondFloor):
 * the time is EVENTS' and the ids are other streams', whose leaders may be other servers with clocks of their own.
 */
const STORED_IDS_CLOCK_SLACK_MS = 5_000;
/** Ids a restart keeps per stream at most (about 100 bytes each); beyond them the duplicate windows alone drop copies. */
const STORED_IDS_MAX = 500_000;

/**
 * Why the loop stopped consuming: to pull again after a reconnect, or to put its consumer back at the
 * first event the engine has not handled (the rest).
 */
interface Interruption {
  reason: "reconnected" | "deliveries-lost" | "deliveries-stalled" | "stream-holds-gap" | "consumer-missing";
  detail: Record<string, number>;
}

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
  /**
   * Asked before the processor recreates its consumer mid-run: false when the partition is no longer
   * ours (the processor then stops and calls onFenced instead of taking the consumer from its owner).
   */
  stillOwner?: () => Promise<boolean>;
  /** Whether the partition's lease is still good by this instance's clock (partitioned; see CheckpointerOptions.leaseHeld). */
  leaseHeld?: () => boolean;
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
  /** Where the ack floor is kept across a consumer's re-creation (src/state/ackfloor.ts). */
  private ackFloors!: AckFloorStore;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  /** The loop ended on an error: nothing is consumed until the processor is restarted. */
  private loopFailed = false;
  private timers: NodeJS.Timeout[] = [];
  private control: PromotionControl | undefined;
  private stopping = false;
  /** The latest round of publishes refused, until a flush gets them stored (health). */
  private publishFailing: { attempt: number; err: string } | undefined;
  /** The largest decision DECISIONS takes: its message limit less room for the msg id header. */
  private readonly maxDecisionBytes: number;
  private readonly enc = new TextEncoder();
  /** Stream sequence of the last event the engine's state reflects. */
  private stateSeq = 0;
  /** Events up to this stream sequence were handled before a restart: their publishes are already stored. */
  private suppressUpTo = 0;
  private replaying = false;
  /**
   * The msg ids DECISIONS and OUTCOMES held at start from the first event after the ack floor on: what the
   * run before stored and did not acknowledge, whose copies a replay skips (readStoredBeyondFloor). Dropped
   * once the loop is past `untilSeq`, EVENTS' last sequence at start (no later event was handled before).
   */
  private storedBefore: { decisions: Set<string>; outcomes: Set<string>; deadletters: Set<string>; untilSeq: number } | undefined;
  /** EVENTS' creation time when the run began: a stream made again since numbers its events anew. */
  private eventsCreated = "";
  private readonly delivery: Delivery = { streamSeq: 0, deliverySeq: 0 };
  private readonly payload: Payload = { bytes: new Uint8Array(0), start: 0, end: 0 };
  /** The last delivery sequence of the current consumer that reached the loop (0: none yet). */
  private lastDeliverySeq = 0;
  /** The loop waits for the consumer's next message (it is not busy with one). */
  private awaitingMessage = false;
  /** Pulls opened or ended so far: a delivery counts only while its own pull is the newest and not ended. */
  private pulls = 0;
  /** Deliveries not yet handled (from inboxHead on), in the order they came. */
  private readonly inbox: JsMsg[] = [];
  private inboxHead = 0;
  private pumping = false;
  private pumpScheduled = false;
  /** Events handled since the per-label counters last reached prom-client. */
  private uncounted = 0;
  /** The consumption under way: its messages and how to end it. */
  private consuming:
    | { msgs: ConsumerMessages; resolve: (why: Interruption | undefined) => void; reject: (err: unknown) => void; closed: boolean; error?: Error }
    | undefined;
  /** Asked from outside the loop: deliveries found stalled (the monitor's look at the consumer), a reconnect. */
  private interrupt: Interruption | undefined;
  private stall: { deliverySeq: number; sinceMs: number } | undefined;
  /** The stream sequence the consumer was last positioned at. */
  private positionedAt = 0;
  /** Events up to this stream sequence were reported lost (each loss is reported once). */
  private lossReportedUpTo = 0;
  private readonly stillOwner: (() => Promise<boolean>) | undefined;
  /** Stopping a partition another instance owns now (stop's `lost`): nothing more is handled or written. */
  private lost = false;
  private readonly onFenced: (() => void) | undefined;

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
    this.stillOwner = opts.stillOwner;
    this.onFenced = opts.onFenced;
    this.name = opts.partition === undefined ? p.durable : `${p.durable}-p${opts.partition}`;
    this.engine = createEngine(engineConfigFrom(cfg), { trackChanges: true });
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.publisher = new PipelinedPublisher(nc, p.maxInFlightPublishes);
    this.maxDecisionBytes = cfg.streams.decisions.maxMsgBytes - MSG_ID_HEADER_ROOM;
    this.queue = new PublishAckQueue(this.publisher, {
      onRetry: (failures, attempt) => {
        this.publishFailing = { attempt, err: failures[0]?.message ?? "unknown" };
        log.warn({ err: failures[0]?.message, codes: [...new Set(failures.map((f) => f.code))], attempt, failed: failures.length }, "publishes failed; retrying them with the same msg ids");
      },
      onRecovered: () => (this.publishFailing = undefined),
      mayAck: opts.leaseHeld,
    });
    this.checkpointer = new Checkpointer(nc, cfg.kv.stateBucket, this.name, { everyEvents: p.checkpointEveryEvents, everyMs: p.checkpointEverySec * 1000, onFenced: opts.onFenced, leaseHeld: opts.leaseHeld, bucketReplicas: cfg.streams.events.replicas }, metrics, log);
    const st = cfg.streams;
    // Partitioned, partition 0's processor looks at the output streams for the whole deployment.
    const outputs = opts.partition === undefined || opts.partition === 0 ? (["decisions", "outcomes", "deadletter"] as const).map((k) => ({ name: st[k].name, key: `streams.${k}` })) : [];
    this.monitor = new Monitor(nc, st.events.name, this.name, metrics, log, outputs);
    this.deadLetters = new DeadLetters(
      (subject, data, msgID, hdrs) => {
        this.publish(subject, data, msgID, hdrs, this.storedBefore?.deadletters);
        return Promise.resolve();
      },
      this.subjects,
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
    const loaded = await this.checkpointer.load(engineConfigFrom(this.cfg)).catch((err: unknown) => this.damagedCheckpoint(err));
    // Read once at start: its creation time names the stream the checkpoints count in, and its state
    // bounds the events the run before can have handled (readStoredBeyondFloor).
    const events = await this.jsm.streams.info(this.cfg.streams.events.name);
    this.eventsCreated = events.created;
    this.checkpointer.streamCreated = this.eventsCreated;
    if (loaded) {
      this.engine = loaded.engine;
      this.kpi = loaded.kpi;
      this.stateSeq = loaded.streamSeq;
      this.log.info({ streamSeq: loaded.streamSeq, format: loaded.format, parts: loaded.parts, bytes: loaded.bytes, customers: loaded.engine.features.size }, "restored checkpoint");
      const pc = loaded.promotionChanges;
      if (pc && pc.added.length + pc.changed.length + pc.removed.length > 0)
        this.log.info({ added: pc.added, changed: pc.changed, removed: pc.removed }, "the configuration's promotions changed since the checkpoint: its changes apply from here");
      // EVENTS deleted and made again since: its sequences are not the checkpoint's, and going on after
      // the checkpoint's would skip as many of the new stream's events without a word.
      if (loaded.streamCreated !== undefined && loaded.streamCreated !== this.eventsCreated) {
        this.log.warn(
          { checkpointOf: loaded.streamCreated, streamCreated: this.eventsCreated, streamSeq: loaded.streamSeq },
          "EVENTS was made again since the checkpoint (its events are numbered anew): the learned state is kept and the new stream is read from its start",
        );
        this.stateSeq = 0;
      }
    } else startTracking(this.engine, this.engine.features.size > 0);
    const start = this.stateSeq + 1;
    // The floor a run before kept, in case it crashed during its replay, after its consumer had gone.
    const kept = await this.ackFloors.read();
    const { ackFloor } = await positionConsumer(this.jsm, this.positionRequest(start), (floor) => this.ackFloors.write(Math.max(floor, kept)));
    this.positionedAt = start;
    this.lastDeliverySeq = 0;
    this.suppressUpTo = Math.max(ackFloor, kept);
    if (!loaded && this.suppressUpTo > 0)
      // Events were handled, yet no checkpoint: its head or the bucket was deleted (or never written, a
      // first run killed before its first checkpoint). Rebuilt from the stream, the state is whole only
      // while the stream holds every event it learned from: said, not taken as an ordinary restart.
      this.log.warn(
        { bucket: this.cfg.kv.stateBucket, key: `${this.name}.head`, handledUpTo: this.suppressUpTo, streamFirstSeq: events.state.first_seq },
        `no checkpoint of this processor in ${this.cfg.kv.stateBucket} although it had handled events up to ${this.suppressUpTo}: the state is rebuilt by replaying ${this.cfg.streams.events.name} from its start (sequence ${events.state.first_seq}); if the checkpoint was lost, what the stream no longer holds is not learned again`,
      );
    if (this.suppressUpTo >= start) this.log.info({ from: start, upTo: this.suppressUpTo }, "replaying events handled before the restart (their publishes are skipped)");
    await this.readStoredBeyondFloor(events.state);
  }

  /**
   * A checkpoint that cannot be read (a chunk deleted, cut short or overwritten in the bucket, a head
   * that is no head) stops the start, with the way out. Starting from an empty state instead would decide
   * as if nothing had been learned and count again what the checkpoint counted, while the stream may no
   * longer hold what the state learned from; whether to rebuild from what it holds is the operator's call.
   * So does one of an engine state version this build does not read (a rollback under a newer build's
   * checkpoint): it is whole, and the first way out is a build that reads it.
   */
  private async damagedCheckpoint(err: unknown): Promise<never> {
    if (!(err instanceof StateError && (err.code === PS_ERR_STATE.Corrupt || err.code === PS_ERR_STATE.Version))) throw err;
    const bucket = this.cfg.kv.stateBucket;
    const stream = this.cfg.streams.events.name;
    const state = await this.jsm.streams.info(stream).then(
      (si) => (si.state.messages > 0 ? `${stream} holds events ${si.state.first_seq} to ${si.state.last_seq}` : `${stream} holds no events`),
      () => `${stream} could not be read`,
    );
    const [problem, first] =
      err.code === PS_ERR_STATE.Version
        ? [`cannot be read by this build`, `run a build that reads its version (the one that wrote it, with every instance)`]
        : [`cannot be restored`, `restore the bucket from a backup`];
    // Partitioned, nobody starts it again by hand: the lease rounds try the partition again by themselves.
    const again = this.partition === undefined ? "then start again" : `and the lease rounds start partition ${this.partition} again by themselves (they retry it about every third of scale.leaseTtlSec)`;
    throw new StateError(
      err.code,
      `the checkpoint in bucket ${bucket} (processor.durable ${this.name}) ${problem}: ${err.message}. The processor does not start from an empty state on its own. ` +
        `Fix: ${first}, or rebuild the state from the stream (${state}; what it no longer holds is not learned again): ` +
        `nats kv del ${bucket} ${this.name}.head, ${again} (the events are replayed with the publishes of those already handled skipped)`,
      { cause: err },
    );
  }

  /**
   * The events after the ack floor may have had their decisions and outcomes stored by the run before
   * (a kill -9 between a flush's publishes and its ack): the replay publishes them again under the same
   * msg ids, and DECISIONS and OUTCOMES drop the copies, but only within their duplicate windows
   * (streams.<s>.duplicateWindowSec). A restart after a longer downtime would store them twice, so the ids
   * the two streams hold from that first event's arrival on are read here, and the replay skips those.
   * A decision is published after its event is stored, so nothing it needs is older than that.
   */
  private async readStoredBeyondFloor({ first_seq, last_seq }: { first_seq: number; last_seq: number }): Promise<void> {
    const from = Math.max(this.suppressUpTo + 1, first_seq);
    if (from > last_seq) return;
    const storedAt = await storedAtFrom(this.nc, this.cfg.streams.events.name, from);
    if (storedAt === undefined) return;
    // A quick restart (or a partition's failover) is within the windows, which drop the copies themselves:
    // reading costs about 11 µs an id (1.3 s for 100,000), time a takeover would wait. Half a window
    // leaves the replay of what was not acknowledged (at most max_ack_pending events) ample room. Each
    // stream by its own window; dead letters too: a bad event's (`dl-<seq>`) came again as a second copy.
    const st = this.cfg.streams;
    const awayMs = Date.now() - storedAt;
    const streams = (["decisions", "outcomes", "deadletter"] as const).filter((s) => awayMs >= (st[s].duplicateWindowSec * 1000) / 2);
    if (streams.length === 0) return;
    const t0 = performance.now();
    const since = storedAt - STORED_IDS_CLOCK_SLACK_MS;
    const read = async (s: (typeof streams)[number]): Promise<StoredIds> => (streams.includes(s) ? storedIdsSince(this.nc, st[s].name, since, { max: STORED_IDS_MAX }) : { ids: new Set(), read: 0, truncated: false });
    const [decisions, outcomes, deadletters] = [await read("decisions"), await read("outcomes"), await read("deadletter")];
    this.storedBefore = { decisions: decisions.ids, outcomes: outcomes.ids, deadletters: deadletters.ids, untilSeq: last_seq };
    this.log.info(
      { since: new Date(since).toISOString(), streams: streams.map((s) => st[s].name), decisions: decisions.ids.size, outcomes: outcomes.ids.size, deadletters: deadletters.ids.size, ms: Math.round(performance.now() - t0) },
      "read the ids stored since the first unacknowledged event (the replay skips their copies)",
    );
    for (const [name, r] of [[st.decisions.name, decisions], [st.outcomes.name, outcomes], [st.deadletter.name, deadletters]] as const)
      if (r.truncated)
        this.log.warn(
          { stream: name, kept: r.ids.size },
          "too many ids stored since the first unacknowledged event to keep them all: copies of later ones are dropped only by the stream's duplicate window",
        );
  }

  private positionRequest(startSeq: number): PositionRequest {
    const p = this.cfg.processor;
    return {
      stream: this.cfg.streams.events.name,
      durable: this.name,
      startSeq,
      filter: this.partition !== undefined ? this.subjects.eventsOfPartition(this.partition) : this.subjects.eventsAll,
      partitioned: this.partition !== undefined,
      ackWaitMs: p.ackWaitSec * 1000,
      maxAckPending: Math.max(p.flushEveryMessages * 4, p.batchSize * 4, 10_000),
    };
  }

  private async openMessages(): Promise<ConsumerMessages> {
    const consumer = await this.publisher.js.consumers.get(this.cfg.streams.events.name, this.name);
    const pull = ++this.pulls;
    // Pull requests expire after 5 s (heartbeats every 2.5 s), so a pull stranded on a server that died
    // is noticed and re-issued in seconds, not after the client's default 30 s. Deliveries come to a
    // callback (consume()'s comment says why); one from an earlier pull is dropped.
    return consumer.consume({
      max_messages: this.cfg.processor.batchSize,
      expires: PULL_EXPIRES_MS,
      callback: (m) => {
        if (pull === this.pulls) this.delivered(m);
      },
    });
  }

  /**
   * Gives up a processor whose start() failed, for good (start() may be tried again before that): lets
   * go of what it opened on the connection, the publisher's reply subscription and status listener. A
   * partitioned instance makes a new processor at every lease round while a partition's start keeps
   * failing, on the connection it keeps: each failed one left them behind. stop() is not for this: it
   * writes a final checkpoint, which over a restore that failed would be an empty engine's.
   */
  abandon(): void {
    this.messages?.stop();
    this.publisher.close();
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.nc);
    this.ackFloors = new AckFloorStore(this.nc, this.jsm, this.cfg.kv.stateBucket, this.name, this.cfg.streams.events.name);
    await this.restoreAndPosition();
    this.messages = await this.openMessages();
    this.monitor.onConsumerInfo = (ci) => this.checkStalled(ci);
    this.monitor.onConsumerMissing = () => void this.consumerMissing();
    this.monitor.start(this.jsm, this.messages);
    void this.watchReconnects();
    this.loop = this.run().catch((err) => {
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
        { partitions: this.cfg.partitions, maxEventBytes: this.cfg.processor.maxEventBytes, list: () => [...this.engine.promotions.keys()], mode: () => this.engine.safe.mode },
        this.metrics,
        this.log,
      );
      this.control.start();
      // Started means promo.control answers: the server has the subscription once this round trip is back.
      await this.nc.flush();
    }
    this.log.info({ durable: this.name, mode: this.engine.safe.mode, baseline: this.engine.cfg.safe?.baseline?.name }, "processor consuming");
    if (this.engine.safe.mode !== "learner") for (const note of baselineNotes(this.engine.cfg.safe!.baseline!, this.cfg)) this.log.warn({ note }, "the shop's rule at these decision points");
  }

  /**
   * Consumes until stopped. Whenever deliveries failed to reach the loop (a connection closed under
   * them, issue 25) it puts the consumer back at the first event the engine has not handled, and goes
   * on from there: nothing after a gap the stream still holds is handled, so nothing past it is ever
   * acknowledged.
   */
  private async run(): Promise<void> {
    for (;;) {
      const why = await this.consume(this.messages!);
      if (!why || this.stopping) return;
      let next = await (why.reason === "reconnected" ? this.pullAgain() : this.reposition(why));
      // The consumer is gone (deleted while the processor was away, say): no status of open messages
      // will tell consumerMissing, so it is made again here, as consumerMissing would.
      while (next === "missing") next = await this.reposition({ reason: "consumer-missing", detail: {} });
      if (!next) return;
    }
  }

  /** Stops the loop's consumption from outside it (it breaks before its next message, or wakes up). */
  private interrupted(why: Interruption): void {
    this.interrupt ??= why;
    this.messages?.stop();
  }

  /**
   * After a reconnect: new messages (a new pull request) on the same consumer. nats.js re-pulls by
   * itself, but not always at once: a reset it began during the outage (heartbeats missed) may sleep
   * out its 5 s backoff first (seen after a 60 s cut: 4.8 s from the reconnect to the first delivery).
   * Deliveries that died with the old connection show as a jump in the delivery sequence (or a stall).
   */
  private async pullAgain(): Promise<boolean | "missing"> {
    this.messages?.stop();
    return this.reopen("pulling again after the reconnect");
  }

  /**
   * New messages to consume (a new pull request), retried until they open or the processor stops
   * (then false). What was asked of the loop before them is moot: they are a new pull.
   */
  private async reopen(what: string): Promise<boolean | "missing"> {
    // The consumer not found while EVENTS is the stream the run began on: "missing", for the loop to make
    // it again (retrying the open would wait for it forever).
    const gone = async (err: unknown) => isNotFound(err) && !this.stopping && (await this.eventsCreatedNow()) === this.eventsCreated;
    let missing = false;
    const msgs = await retryWithBackoff(
      async () => {
        try {
          return await this.openMessages();
        } catch (err) {
          if (await gone(err)) missing = true;
          throw err;
        }
      },
      {
        retry: () => !this.stopping && !missing,
        onRetry: (err: unknown, attempt: number) => this.log.warn({ err: (err as Error).message, attempt }, `${what} failed; retrying`),
      },
    ).catch((err: unknown) => {
      if (missing) return undefined;
      throw err;
    });
    if (!msgs) return this.stopping ? false : "missing";
    if (this.stopping) {
      msgs.stop();
      return false;
    }
    this.messages = msgs;
    this.interrupt = undefined;
    this.monitor.watch(msgs);
    return true;
  }

  private async watchReconnects(): Promise<void> {
    const status = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.statusWatch = status;
    for await (const s of status) if (s.type === "reconnect" && !this.stopping) this.interrupted({ reason: "reconnected", detail: {} });
  }
  private statusWatch: { stop?(): void } | undefined;

  /**
   * The hot loop (bench/: pipeline section and its profile). Deliveries arrive at a callback, straight
   * from the client's parser (`consume({ callback })`), into `inbox`; the first of a socket read's
   * deliveries schedules one pass (`pump`) that handles them all. The client's async iterator cost a
   * promise and a microtask hop per message: a consumer that only receives and acks spent 2.95–3.24 µs
   * of CPU per message with `for await` against 1.81–2.44 with the callback (issue 24). The client keeps
   * pulling while a pass waits (a full publish window, a dead letter, a checkpoint); the server's
   * max_ack_pending bounds what it delivers unacknowledged, and so the inbox.
   *
   * A pass awaits nothing per message unless it must. Publishes are handed to the publisher together
   * once the inbox is empty (or every SEND_BATCH), so one socket write carries many: nats.js flushes
   * its outbound buffer on the first microtask after a publish, and a write per decision was 12% of
   * the processor's CPU. A flush (the ack of a batch) is started here but not awaited: the loop keeps
   * handling while the server stores the batch's publishes, and the ack still goes out only after they
   * are stored.
   *
   * Every delivery's sequences are checked before it is handled (AckPolicy.All: acknowledging one
   * acknowledges every delivery before it, so a message must never be handled past deliveries that
   * did not arrive). Resolves with why it stopped consuming (to pull again or to reposition), or
   * undefined once the processor stops (after handling what had arrived).
   */
  private consume(msgs: ConsumerMessages): Promise<Interruption | undefined> {
    return new Promise((resolve, reject) => {
      this.consuming = { msgs, resolve, reject, closed: false };
      this.awaitingMessage = this.inbox.length === this.inboxHead;
      void msgs.closed().then((err) => {
        const c = this.consuming;
        if (!c || c.msgs !== msgs) return;
        c.closed = true;
        if (err instanceof Error && !this.stopping && !this.interrupt) c.error = err;
        // A pass under way (or due) ends it once it has handled what arrived.
        if (this.pumping || this.pumpScheduled) return;
        if (this.interrupt || c.error || this.inbox.length === this.inboxHead) this.settleConsume();
        else this.schedulePump();
      });
      if (this.inbox.length > this.inboxHead) this.schedulePump();
    });
  }

  /** A delivery from the client's parser (the current pull's). */
  private delivered(m: JsMsg): void {
    this.inbox.push(m);
    this.awaitingMessage = false;
    if (!this.pumping && !this.pumpScheduled) this.schedulePump();
  }

  private schedulePump(): void {
    this.pumpScheduled = true;
    queueMicrotask(this.pumpNow);
  }
  private readonly pumpNow = (): void => {
    this.pumpScheduled = false;
    if (!this.consuming || this.pumping) return;
    this.pump().catch((err: unknown) => {
      const c = this.consuming;
      this.endConsume();
      c?.reject(err);
    });
  };

  /** Handles what the inbox holds, in order; ends the consumption when asked to (or when it must). */
  private async pump(): Promise<void> {
    this.pumping = true;
    const d = this.delivery;
    const flushEvery = this.cfg.processor.flushEveryMessages;
    try {
      while (this.inboxHead < this.inbox.length) {
        if (this.interrupt || this.lost) return this.settleConsume();
        // A pass that never empties the inbox (deliveries keep coming while it waits) lets go of what it handled.
        if (this.inboxHead >= 4096) {
          this.inbox.splice(0, this.inboxHead);
          this.inboxHead = 0;
        }
        const m = this.inbox[this.inboxHead++]!;
        readDelivery(m, d);
        // The server numbers its deliveries to this consumer: a jump means some never reached us.
        if (d.deliverySeq !== this.lastDeliverySeq + 1)
          return this.settleConsume({ reason: "deliveries-lost", detail: { expectedDelivery: this.lastDeliverySeq + 1, delivery: d.deliverySeq, streamSeq: d.streamSeq } });
        this.lastDeliverySeq = d.deliverySeq;
        // (Only for a consumer of the whole stream: a partition's consumer skips other partitions' sequences.)
        if (this.partition === undefined && d.streamSeq > this.stateSeq + 1 && (await this.streamHolds(this.stateSeq + 1, d.streamSeq - 1)))
          return this.settleConsume({ reason: "stream-holds-gap", detail: { from: this.stateSeq + 1, to: d.streamSeq - 1 } });
        const wait = this.handle(m, d.streamSeq);
        if (wait) await wait;
        this.queue.handled(m);
        this.checkpointer.noteEvent();
        const idle = this.inboxHead === this.inbox.length;
        if (idle || ++this.uncounted >= COUNT_EVERY) {
          this.monitor.flushCounts();
          this.uncounted = 0;
        }
        if (this.queue.waiting >= SEND_BATCH || idle) {
          const sending = this.queue.send();
          if (sending) await sending;
        }
        // One checkpoint write at a time: while the last one is still being written, the next waits.
        if (this.checkpointer.due(Date.now())) await this.checkpoint();
        else if (this.queue.handledSinceFlush >= flushEvery && !this.queue.isFlushing) void this.queue.flush().catch(() => undefined);
      }
      this.inbox.length = 0;
      this.inboxHead = 0;
      this.awaitingMessage = true;
      if (this.consuming?.closed || this.interrupt) this.settleConsume();
    } finally {
      this.pumping = false;
    }
    // Deliveries that came while the last ones were awaited.
    if (this.consuming && this.inbox.length > this.inboxHead) this.schedulePump();
  }

  /** Ends the current consumption: with why (an interruption), or as asked from outside. */
  private settleConsume(why?: Interruption): void {
    const c = this.consuming;
    if (!c) return;
    this.endConsume();
    if (c.error) return c.reject(c.error);
    const asked = why ?? this.interrupt;
    this.interrupt = undefined;
    c.resolve(this.stopping ? undefined : asked);
  }

  /** Forgets the inbox (what was not handled comes again from the repositioned or new pull). */
  private endConsume(): void {
    this.consuming = undefined;
    // The pull's deliveries still on their way are dropped (its callback's pull is no longer the newest).
    this.pulls++;
    this.inbox.length = 0;
    this.inboxHead = 0;
    this.awaitingMessage = false;
  }

  /**
   * The delivered stream sequence jumped over [from, to] although every delivery arrived: the server
   * found nothing there, so the stream no longer holds those events. The stream is asked anyway, and
   * only what lies below its first sequence is reported as removed by its limits. Anything above it is
   * either still held (then the consumer is put back at `from` to deliver it: true) or was deleted,
   * which a consumer just positioned at `from` that skips it again proves (reported as deleted).
   */
  private async streamHolds(from: number, to: number): Promise<boolean> {
    let first: number;
    try {
      first = (await this.jsm.streams.info(this.cfg.streams.events.name)).state.first_seq;
    } catch (err) {
      // Cannot ask: take the safe side and deliver the range again.
      this.log.warn({ err: (err as Error).message, from, to }, "could not ask the stream about a gap in its sequence; repositioning the consumer at it");
      return true;
    }
    const removedTo = Math.min(to, first - 1);
    const reportFrom = Math.max(from, this.lossReportedUpTo + 1);
    if (removedTo >= reportFrom) this.monitor.lost(removedTo - reportFrom + 1, reportFrom, removedTo, "limits");
    this.lossReportedUpTo = Math.max(this.lossReportedUpTo, removedTo);
    const restFrom = Math.max(from, first);
    if (restFrom > to) return false;
    if (this.positionedAt !== from) return true;
    const deletedFrom = Math.max(restFrom, this.lossReportedUpTo + 1);
    if (to >= deletedFrom) this.monitor.lost(to - deletedFrom + 1, deletedFrom, to, "deleted");
    this.lossReportedUpTo = Math.max(this.lossReportedUpTo, to);
    return false;
  }

  /**
   * Told of each look the monitor takes at the consumer: when the server has delivered more than
   * reached the loop, nothing is arriving and the loop waits, for STALLED_MS, those deliveries died
   * with a connection. With nothing after them to show the gap they would come again only after the
   * ack wait (30 s): the loop is stopped and the consumer repositioned now.
   */
  private checkStalled(ci: ConsumerInfo): void {
    const delivered = ci.delivered.consumer_seq;
    // (awaitingMessage, read from a timer: the inbox is empty and no pass is under way.)
    if (!this.awaitingMessage || this.stopping || delivered <= this.lastDeliverySeq) {
      this.stall = undefined;
      return;
    }
    const now = Date.now();
    if (this.stall?.deliverySeq !== this.lastDeliverySeq) {
      this.stall = { deliverySeq: this.lastDeliverySeq, sinceMs: now };
      return;
    }
    if (now - this.stall.sinceMs < STALLED_MS) return;
    this.stall = undefined;
    this.interrupted({ reason: "deliveries-stalled", detail: { delivered, received: this.lastDeliverySeq } });
  }

  /**
   * Puts the consumer back at the first event the engine has not handled (stateSeq + 1) and opens new
   * messages there. Everything handled so far is stored and acknowledged first: a consumer created at
   * a start sequence counts everything before it as acknowledged, and a restart after a crash skips
   * the publishes of acknowledged events. False when the processor must stop consuming instead
   * (stopping, or the partition is no longer ours).
   */
  private async reposition(r: Interruption): Promise<boolean | "missing"> {
    const from = this.stateSeq + 1;
    const t0 = Date.now();
    const missing = r.reason === "consumer-missing";
    if (missing) this.log.warn({ reason: r.reason, from }, "the processor's consumer is gone; making it again at the first event the processor has not handled");
    else this.log.warn({ reason: r.reason, ...r.detail, from }, "deliveries did not reach the processor; repositioning its consumer at the first event it has not handled");
    this.metrics.consumerRepositions.inc({ reason: r.reason });
    this.monitor.repositioning = true;
    try {
      this.messages?.stop();
      await this.queue.flush();
      // A failed read of the lease (a timeout after the very network trouble a reposition follows) says
      // nothing about who owns the partition: asked again, or the loop would end for good under a lease
      // this instance goes on renewing.
      const stillOwner = this.stillOwner;
      const owner = stillOwner
        ? await retryWithBackoff(() => stillOwner(), {
            retry: () => !this.stopping,
            onRetry: (err: unknown, attempt: number) => this.log.warn({ err: (err as Error).message, attempt }, "reading the partition's lease failed; retrying"),
          })
        : true;
      if (!owner) {
        this.log.error({ partition: this.partition }, "the partition is no longer this instance's; not repositioning its consumer");
        this.onFenced?.();
        return false;
      }
      const taken = (err: unknown) => err instanceof ProcessorError && err.code === PS_ERR_PROCESSOR.ConsumerTaken;
      const retry = { retry: (err: unknown) => !this.stopping && !taken(err), onRetry: (err: unknown, attempt: number) => this.log.warn({ err: (err as Error).message, attempt }, "repositioning the consumer failed; retrying") };
      let ackFloor: number;
      try {
        // A processor on its own leaves a consumer someone else made meanwhile alone. A partition's goes by
        // its lease, checked just above: one made by an instance whose lease write was lost (nats-server
        // 2.9 on R3) is taken back, and that instance, its consumer gone, finds the lease is not its own.
        const ifAbsent = missing && this.stillOwner === undefined;
        ({ ackFloor } = await retryWithBackoff(() => positionConsumer(this.jsm, this.positionRequest(from), (floor) => this.ackFloors.write(Math.max(floor, this.suppressUpTo)), { ifAbsent }), retry));
      } catch (err) {
        if (!taken(err)) throw err;
        // Taking it back would take it from whoever made it, who would take it back in turn.
        this.loopFailed = true;
        this.log.error({ err: (err as Error).message }, "no longer consuming (/health reports it): stop the other processor, or give each its own processor.durable, and restart this one");
        return false;
      }
      this.positionedAt = from;
      this.lastDeliverySeq = 0;
      this.stall = undefined;
      this.suppressUpTo = Math.max(this.suppressUpTo, ackFloor);
      const opened = await this.reopen("opening the repositioned consumer");
      if (opened !== true) return opened;
      this.log.info({ from, tookMs: Date.now() - t0 }, "consumer repositioned");
      return true;
    } finally {
      this.monitor.repositioning = false;
    }
  }

  /**
   * The durable consumer went from under the loop (deleted by hand, say): without it nothing is ever
   * delivered again. While EVENTS is the stream the run began on, the loop stops and the consumer is
   * made again at the first event the engine has not handled (reposition). A stream deleted, or made
   * again and numbering its events anew, is left to /health and a restart.
   */
  private async consumerMissing(): Promise<void> {
    if (this.stopping || this.interrupt || this.monitor.repositioning) return;
    const created = await this.eventsCreatedNow();
    if (created === undefined) return;
    if (created !== this.eventsCreated) {
      if (!this.eventsRemadeSaid) this.log.error({ was: this.eventsCreated, now: created }, "EVENTS was deleted and made again while the processor ran: restart the processor");
      this.eventsRemadeSaid = true;
      return;
    }
    if (!this.stopping && !this.monitor.repositioning) this.interrupted({ reason: "consumer-missing", detail: {} });
  }
  private eventsRemadeSaid = false;

  /** When EVENTS was made, as the server says now (another time than eventsCreated: made again), or undefined when it cannot say. */
  private async eventsCreatedNow(): Promise<string | undefined> {
    try {
      return (await this.jsm.streams.info(this.cfg.streams.events.name)).created;
    } catch {
      return undefined;
    }
  }

  /** Checkpoints the state at this message boundary (see Checkpointer.checkpoint). */
  checkpoint(opts: { wait?: boolean; final?: boolean } = {}): Promise<void> {
    return this.checkpointer.checkpoint(() => ({ seq: this.stateSeq, engine: this.engine, kpi: this.kpi }), () => this.queue.flush(), opts);
  }

  /** Waits until every publish so far is stored and the newest handled message acknowledged. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Queues a publish, unless it replays an event whose publishes were stored before the restart, or its
   * msg id is among `stored`, the ids its stream held at start (then false).
   */
  private publish(subject: string, data: Uint8Array | string, msgID: string | undefined, hdrs: Record<string, string> | undefined, stored?: Set<string>): boolean {
    if (this.replaying || (stored !== undefined && msgID !== undefined && stored.delete(msgID))) {
      this.metrics.replaySuppressed.inc();
      return false;
    }
    this.queue.push(subject, data, msgID, hdrs);
    return true;
  }

  /** Undefined when the message is done; a promise (rare: dead letters) to await before the next. */
  private handle(m: JsMsg, seq: number): Promise<void> | undefined {
    if (seq <= this.stateSeq) {
      // Redelivered (e.g. the server restarted before our ack reached its disk): the state already
      // holds this event; it is acknowledged again and nothing else happens.
      this.metrics.redelivered.inc();
      return undefined;
    }
    this.kpi.events++;
    this.replaying = seq <= this.suppressUpTo;
    if (this.storedBefore && seq > this.storedBefore.untilSeq) this.storedBefore = undefined;
    this.stateSeq = seq;
    const t0 = performance.now();
    // Internal events of partitioned processors (sync tables) may be larger than a shopper's event.
    const internal = this.partition !== undefined && INTERNAL_SUBJECT.test(m.subject);
    const p = readPayload(m, this.payload);
    const decoded = decodeEvent(p.bytes, internal ? this.cfg.streams.events.maxMsgBytes : this.cfg.processor.maxEventBytes, p.start, p.end);
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
    // A producer that routed the customer by a hash or a count of its own: taken here, the customer's
    // visits, caps and open decisions would be split between two partitions' engines, and a purchase
    // credited to the offer of one would never reach the other. (Our own parts route with partitionOf.)
    const customerId = "customerId" in ev ? ev.customerId : undefined;
    const theirs = this.partition !== undefined && customerId !== undefined ? partitionOf(customerId, this.cfg.partitions) : this.partition;
    if (theirs !== this.partition && customerId !== undefined) {
      this.kpi.onDeadLetter(PS_ERR_EVENT.SubjectMismatch);
      return this.deadLetter(PS_ERR_EVENT.SubjectMismatch, `subject says partition ${this.partition}, but customer ${JSON.stringify(customerId.slice(0, 64))} is partition ${theirs}'s (FNV-1a of the customer id mod ${this.cfg.partitions}: events.<type>.${theirs})`, m, ev.id);
    }
    if (this.partition === undefined && (INTERNAL_EVENT_TYPES as readonly string[]).includes(ev.type)) {
      // Stock copies, grants and other partitions' counts are what partitioned processors publish to
      // each other; a processor of the whole stream publishes none and has nothing to merge. Applied,
      // anyone able to publish on EVENTS raised a promotion's budget past its configuration (a grant
      // is the partition's budget) or added counts to the posteriors (a sync).
      this.kpi.onDeadLetter(PS_ERR_EVENT.Invalid);
      return this.deadLetter(PS_ERR_EVENT.Invalid, `/type: ${ev.type} events are partitioned processors' own, and this processor reads the whole stream (no partition): not applied`, m, ev.id, { foreign: true });
    }
    const before = ev.type === "promotion" ? this.engine.promotions.get(ev.promotion.id) : undefined;
    const effects = step(this.engine, ev, new EventRng(this.cfg.processor.seed, ev.id));
    if (ev.type === "promotion" && !this.replaying) this.promotionApplied(before, ev.promotion.id);
    let wait: Promise<void> | undefined;
    let decided: Decision | undefined;
    let deadLettered: string | undefined;
    for (const eff of effects) {
      if (eff.kind === "decision") {
        const d = eff.decision;
        this.monitor.decideLatency((performance.now() - t0) * 1000);
        this.kpi.onDecision(d);
        // The JSON text: the publisher encodes it into its frame (the decision's bytes are encodeDecision's),
        // shortened in the rare case the stream would refuse it for good (src/events/fit.ts).
        const fitted = fitDecision(d, this.maxDecisionBytes);
        decided = fitted.decision;
        // Counted as published only when it is (a restart's replay skips those stored before it).
        if (this.publish(this.subjects.decision(d.channel), fitted.json, d.id, undefined, this.storedBefore?.decisions)) this.monitor.decisionsOut(d.channel, d.promotionId).inc();
      } else if (eff.kind === "deadletter") {
        deadLettered ??= eff.reason;
        this.kpi.onDeadLetter(eff.reason);
        // Queued at once (DeadLetters.send publishes before its first await); awaited in order.
        const dl = this.deadLetter(eff.reason, eff.detail, m, ev.id);
        wait = wait ? wait.then(() => dl) : dl;
      } else if (eff.kind === "mode") {
        this.graduate(eff);
      } else {
        const o = eff.outcome;
        this.kpi.onOutcome(o);
        this.monitor.outcomes(o.cause).inc();
        // Through the same queue as the decisions: the batch's ack waits for it to be stored, and a
        // replay after a crash publishes it again under the same msg id, which OUTCOMES drops.
        const r = outcomeRecord(o);
        if (this.publish(this.subjects.outcome(r.channel), JSON.stringify(r), r.id, undefined, this.storedBefore?.outcomes)) this.monitor.outcomesOut(r.channel, r.closedBy).inc();
      }
    }
    // An event the engine already handled (a retry stored again after EVENTS' duplicate window) has its
    // answer in the bucket from the first time: writing "duplicate" over it would take the decision away.
    if ("decide" in ev && ev.decide === true && deadLettered !== PS_ERR_EVENT.Duplicate) this.answer(ev.id, decided, deadLettered);
    return wait;
  }

  /**
   * Someone waits for this event's decision (POST /api/decide, decide.<channel>): its answer goes to
   * the answers bucket through the same queue, after the decision, so it is stored before the event is
   * acknowledged and a replay writes it again under the same msg id.
   */
  private answer(eventId: string, decision: Decision | undefined, deadLettered: string | undefined): void {
    const a: DecideAnswer = decision ? { decision } : { decision: null, reason: deadLettered ?? NO_DECISION.NotADecisionPoint };
    const { subject, msgID } = answerPublish(this.cfg.kv.answersBucket, eventId);
    this.publish(subject, JSON.stringify(a), msgID, undefined);
  }

  /**
   * The engine's evidence says its apprentice is better than the shop's rule (issue 23): the mode change
   * goes into the log, one event per partition, through the same queue as the decisions (stored before
   * the triggering event is acknowledged; a replay after a crash publishes it again under the same ids,
   * which EVENTS' duplicate window drops). The mode changes where the event stands in the log.
   */
  private graduate(eff: Extract<Effect, { kind: "mode" }>): void {
    const changeId = `grad-${eff.eventId}`;
    for (const r of this.subjects.modeChange({ mode: eff.mode, reason: eff.reason, since: eff.since, evidence: eff.evidence }, changeId, eff.ts, this.cfg.partitions))
      this.publish(r.subject, encodeEvent(r.event), r.event.id, undefined);
    if (!this.replaying) this.log.info({ mode: eff.mode, evidence: eff.evidence, changeId }, "the apprentice graduates: mode change put in the log");
  }

  /** Says so when a promotion change changed something (a processor of every partition sees each change once per partition). */
  private promotionApplied(before: Promotion | undefined, id: string): void {
    const after = this.engine.promotions.get(id);
    if (before && JSON.stringify(before) === JSON.stringify(after)) return;
    this.log.info({ promotion: id, isNew: before === undefined }, before ? "promotion updated" : "promotion added");
  }

  private deadLetter(reason: DeadLetterReason, detail: string, m: JsMsg, eventId?: string, opts: { foreign?: boolean } = {}): Promise<void> {
    return this.deadLetters.send(reason, detail, { subject: m.subject, data: m.data, seq: m.seq, ...(eventId ? { eventId } : {}), ...(opts.foreign ? { foreign: true } : {}) }, Date.now());
  }

  health(): ProcessorHealth {
    const h = this.monitor.health(this.loop !== undefined && !this.stopping && !this.loopFailed);
    // Nothing is acknowledged while a batch's publishes are refused: say so once it lasts.
    const f = this.publishFailing;
    if (f && f.attempt >= PUBLISH_FAILING_ROUNDS) h.degraded = [...(h.degraded ?? []), `publishes refused for ${f.attempt} rounds, nothing acknowledged since: ${f.err}`];
    return h;
  }

  snapshot(): ProcessorSnapshot {
    this.monitor.flushCounts();
    const base = buildSnapshot(this.engine, this.kpi, Date.now());
    // A partition's figures are its instance's to merge and set (src/scale/instance.ts).
    if (this.standalone) setSnapshotGauges(this.metrics, base, this.engine.features.memoryBytes);
    return { ...base, latencyMs: this.monitor.latencyMs(), consumer: this.monitor.consumer(), eventsIn: this.kpi.events, health: this.health() };
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
  /**
   * Stops consuming, then stores what it handled and writes the final checkpoint. With `lost` (a
   * partition whose lease names another instance now) it handles nothing more and writes nothing: no
   * checkpoint head, which the new owner restored and moves with a revision check (one written now, by
   * an instance paused past its lease, made the owner's next checkpoint fail and fenced the owner), and
   * no acknowledgement, which would reach the new owner's consumer of the same name. The owner replays
   * from its restored head what this one handled since, deciding it again under the same ids.
   */
  async stop(opts: { lost?: boolean } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.lost = opts.lost ?? false;
    this.queue.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.monitor.stop();
    this.statusWatch?.stop?.();
    this.control?.stop();
    await this.control?.drain();
    this.messages?.stop();
    await this.loop;
    this.monitor.flushCounts();
    if (this.lost) {
      this.publisher.close();
      this.log.info({ eventsIn: this.kpi.events, decisions: this.kpi.decisions }, "processor stopped without a final checkpoint: the partition is another instance's now");
      return;
    }
    try {
      await this.checkpoint({ wait: true, final: true });
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "final flush failed; unacknowledged events will be redelivered");
    }
    // The checkpoint job says its own failure; this says what it means for the events.
    const failure = this.queue.failure;
    if (failure) this.log.error({ err: failure.message }, "publishes were still refused when stopping: the events since the last acknowledgement stay unacknowledged, and the next start decides them again (the same decisions, under the same ids)");
    this.publisher.close();
    if (this.standalone) this.publishSnapshot();
    this.log.info({ eventsIn: this.kpi.events, decisions: this.kpi.decisions }, "processor stopped");
  }
}
