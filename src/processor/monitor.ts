// The monitor: what the processor reports about itself and never decides with. Consumer lag and
// stream usage (polled), events lost to stream limits, decision latency, the consumer's status, health;
// and the labelled Prometheus counters it bumps per event, looked up once per label value.
import type { ConsumerInfo, ConsumerMessages, JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import { isNotFound } from "../io/nats/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import type { ProcessorHealth } from "./types.ts";

/** How long /health stays degraded after events were lost to stream limits. */
const LOSS_REPORT_MS = 10 * 60_000;
const POLL_MS = 2_000;
/**
 * The consumer counts as missing only when no look at it succeeded for this long (or the server said
 * it is gone): one request that timed out while the connection came back is not an outage, and
 * /health flapped on it after a network partition healed (issue 25).
 */
const CONSUMER_GRACE_MS = 3 * POLL_MS;
/** Latency percentiles cover the last 10–20 s: two histograms, rotated. */
const LATENCY_ROTATE_MS = 10_000;

interface Inc {
  inc(n?: number): void;
}

/**
 * A labelled counter's child counted in a plain number and added to prom-client in bulk (flush()):
 * a prom-client inc() hashes its labels into a key on every call, one to three times per event
 * (issue #16: ~3% of the processor's CPU). The processor flushes whenever it has handled what it
 * had pulled and every FLUSH_EVERY events, so /metrics trails by at most that.
 */
class BatchedInc implements Inc {
  n = 0;
  constructor(private readonly child: Inc) {}
  inc(): void {
    this.n++;
  }
  flush(): void {
    if (this.n === 0) return;
    this.child.inc(this.n);
    this.n = 0;
  }
}

/** Why events never reached the engine: removed by the stream's limits, or deleted from it. */
export type LossCause = "limits" | "deleted";

/** A stream the processor writes (DECISIONS, OUTCOMES, DEADLETTER), with the config key of its limits. */
export interface OutputStream {
  name: string;
  /** e.g. `streams.decisions` */
  key: string;
}

/** Share of max_bytes from which a stream counts as nearly full. */
const NEARLY_FULL = 0.9;

export class Monitor {
  private timers: NodeJS.Timeout[] = [];
  private lat: Histogram = newHistogram();
  private latPrev: Histogram = newHistogram();
  private consumerOk = false;
  /** When a look at the consumer last succeeded (or it delivered). */
  private consumerSeenMs = 0;
  /** Connected to a server: false from a disconnect until the reconnect. */
  private connected = true;
  /** The processor is recreating its consumer: its absence meanwhile is expected. */
  repositioning = false;
  /** Told of every successful look at the consumer (the processor compares its deliveries). */
  onConsumerInfo: ((ci: ConsumerInfo) => void) | undefined;
  /** Told when the server says the consumer was deleted or is not found (the stream is there). */
  onConsumerMissing: (() => void) | undefined;
  private consumerLag = 0;
  private ackPending = 0;
  private degraded: string[] = [];
  private readonly eventsLost: Record<LossCause, number> = { limits: 0, deleted: 0 };
  private lastLossMs = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly durable: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /**
     * The streams the processor writes, looked at too: at max_bytes they drop their oldest messages
     * (discard old), which a reader of DECISIONS or OUTCOMES further behind than that never gets. Only
     * EVENTS was looked at, so ps_stream_usage_ratio had no other stream and nothing said that a full
     * DECISIONS kept minutes of decisions instead of its max_age (a soak at SIM_SPEED=max filled its
     * 1 GiB in about 18 minutes). Empty for all but one partition's processor: one look is enough.
     */
    private readonly outputs: readonly OutputStream[] = [],
  ) {}
  /** The output streams last seen nearly full (logged once as they get there). */
  private readonly outputsFull = new Set<string>();

  /** Starts polling the consumer, watching the connection and the consumer's messages. */
  start(jsm: JetStreamManager, messages: ConsumerMessages): void {
    this.watch(messages);
    void this.watchConnection().catch(() => undefined);
    this.timers.push(setInterval(() => void this.poll(jsm), POLL_MS));
    this.timers.push(
      setInterval(() => {
        const t = this.latPrev;
        t.reset();
        this.latPrev = this.lat;
        this.lat = t;
      }, LATENCY_ROTATE_MS),
    );
    void this.poll(jsm);
  }

  /** Watches the status of (new) consumer messages: after a start, or a repositioning. */
  watch(messages: ConsumerMessages): void {
    this.consumerOk = true;
    this.consumerSeenMs = Date.now();
    void this.watchStatus(messages, ++this.watching).catch(() => undefined);
  }
  /** Which consumer messages are watched: a status of earlier ones (a consumer since recreated) is old news. */
  private watching = 0;

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // The connection outlives this processor (partitions come and go on one connection): its status
    // iterator is let go now, not at the next status event.
    this.statusWatch?.stop?.();
  }
  private statusWatch: { stop?(): void } | undefined;
  private stopped = false;

  /** Time from an event's arrival in the loop to its decision, µs. */
  decideLatency(us: number): void {
    this.lat.recordValue(Math.max(1, Math.round(us)));
    this.metrics.decideLatency.observe(us / 1e6);
  }

  /**
   * Events the processor never saw because the stream no longer holds them (the processor asked it:
   * below its first sequence, removed by max age, max bytes or max messages; or deleted from it),
   * never events still in the stream that a delivery failed to bring (issue 25): lost, and said so.
   */
  lost(count: number, fromSeq: number, toSeq: number, cause: LossCause): void {
    this.eventsLost[cause] += count;
    this.lastLossMs = Date.now();
    this.metrics.eventsLost.inc(count);
    if (cause === "limits") this.log.error({ lost: count, from: fromSeq, to: toSeq }, "events were removed by stream limits before the processor read them");
    else this.log.error({ lost: count, from: fromSeq, to: toSeq }, "events were deleted from the stream before the processor read them");
  }

  private async watchStatus(msgs: ConsumerMessages, generation: number): Promise<void> {
    for await (const s of msgs.status()) {
      // (nats.js may not end the status iterator of messages the processor stopped consuming.)
      if (generation !== this.watching) break;
      if (s.type === "consumer_not_found" || s.type === "stream_not_found" || s.type === "consumer_deleted") {
        if (this.repositioning) continue;
        this.consumerOk = false;
        this.log.error({ status: s.type }, "consumer or stream missing");
        if (s.type !== "stream_not_found") this.onConsumerMissing?.();
      } else if (s.type === "heartbeats_missed") this.log.warn({ count: s.count }, "consumer heartbeats missed");
      else if (s.type === "next") {
        this.consumerOk = true;
        this.consumerSeenMs = Date.now();
      }
    }
  }

  private async watchConnection(): Promise<void> {
    // (nats.js types status() as an AsyncIterable; it is a queued iterator that can be stopped.)
    const status = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.statusWatch = status;
    for await (const s of status) {
      if (this.stopped) break;
      if (s.type === "disconnect" || s.type === "staleConnection") this.connected = false;
      else if (s.type === "reconnect") this.connected = true;
    }
  }

  private async poll(jsm: JetStreamManager): Promise<void> {
    // While disconnected a request goes nowhere (nats.js drops what it could not write) and only times out.
    if (!this.connected) return;
    // Beside the consumer's look, not in it: a slow answer about an output stream must not hold up the
    // consumer's (stall detection), and its failure is not the consumer's (tried again at the next poll).
    if (this.outputs.length && !this.pollingOutputs) {
      this.pollingOutputs = true;
      void Promise.all(this.outputs.map((o) => this.pollOutput(jsm, o).catch(() => undefined))).finally(() => (this.pollingOutputs = false));
    }
    if (this.polling) return;
    this.polling = true;
    try {
      const ci = await jsm.consumers.info(this.stream, this.durable);
      if (this.pollFailures > 0) this.log.info({ failed: this.pollFailures }, "consumer info answers again");
      this.pollFailures = 0;
      this.consumerOk = true;
      this.consumerSeenMs = Date.now();
      this.onConsumerInfo?.(ci);
      this.consumerLag = ci.num_pending;
      this.ackPending = ci.num_ack_pending;
      this.metrics.consumerLag.set(ci.num_pending);
      this.metrics.consumerAckPending.set(ci.num_ack_pending);
      const si = await jsm.streams.info(this.stream);
      const usage = this.exportUsage(si);
      const degraded: string[] = [];
      if (usage >= NEARLY_FULL) degraded.push(`stream ${si.config.name} is ${(usage * 100).toFixed(0)}% full (max_bytes ${si.config.max_bytes}); the oldest events are being discarded`);
      if (Date.now() - this.lastLossMs < LOSS_REPORT_MS) {
        if (this.eventsLost.limits > 0) degraded.push(`${this.eventsLost.limits} events were removed by stream limits before the processor read them`);
        if (this.eventsLost.deleted > 0) degraded.push(`${this.eventsLost.deleted} events were deleted from the stream before the processor read them`);
      }
      if (degraded.join() !== this.degraded.join()) {
        if (degraded.length) this.log.warn({ degraded }, "processor degraded");
        else this.log.info("processor no longer degraded");
      }
      this.degraded = degraded;
    } catch (err) {
      if (this.repositioning) return;
      const gone = isNotFound(err);
      if (gone || Date.now() - this.consumerSeenMs > CONSUMER_GRACE_MS) this.consumerOk = false;
      // Once per outage, not every poll.
      if (this.pollFailures++ === 0) this.log.warn({ err: (err as Error).message }, "consumer info failed");
    } finally {
      this.polling = false;
    }
  }
  private polling = false;
  private pollingOutputs = false;
  private pollFailures = 0;

  /** A stream's share of its max_bytes (0 without one), exported as ps_stream_usage_ratio{stream}. */
  private exportUsage(si: StreamInfo): number {
    const usage = si.config.max_bytes > 0 ? si.state.bytes / si.config.max_bytes : 0;
    this.metrics.streamUsage.set({ stream: si.config.name }, usage);
    return usage;
  }

  /**
   * An output stream's usage, exported; said once when it gets nearly full. Not a /health degradation:
   * an output stream whose max_bytes binds before its max_age stays full for good (it is a log that
   * rolls over), and the processor loses nothing by it; its readers are the ones to know.
   */
  private async pollOutput(jsm: JetStreamManager, o: OutputStream): Promise<void> {
    const si = await jsm.streams.info(o.name);
    const usage = this.exportUsage(si);
    if (usage < NEARLY_FULL) {
      this.outputsFull.delete(o.name);
      return;
    }
    if (this.outputsFull.has(o.name)) return;
    this.outputsFull.add(o.name);
    this.log.warn(
      { stream: o.name, usage: Number(usage.toFixed(3)), maxBytes: si.config.max_bytes, oldest: si.state.first_ts },
      `stream ${o.name} is ${(usage * 100).toFixed(0)}% full (max_bytes ${si.config.max_bytes}): it drops its oldest messages to take new ones, so a reader further behind than it holds misses them; fix: raise ${o.key}.maxBytes if readers need more`,
    );
  }

  /** The consumer delivered: it is there. */
  delivered(): void {
    this.consumerSeenMs = Date.now();
  }

  health(consuming: boolean): ProcessorHealth {
    const nats = this.connected && !this.nc.isClosed() && !this.nc.isDraining();
    const consumer = this.consumerOk || this.repositioning;
    return { ok: nats && consuming && consumer, consuming, nats, consumer, degraded: [...this.degraded] };
  }

  latencyMs(): { p50: number; p99: number; count: number } {
    const h = this.lat.totalCount > 0 ? this.lat : this.latPrev;
    return { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, count: h.totalCount };
  }

  consumer(): { lag: number; ackPending: number } {
    return { lag: this.consumerLag, ackPending: this.ackPending };
  }

  // prom-client children per label value, looked up once (a labelled inc() also looks its labels up
  // on every call), counted in batches (BatchedInc): these run per event and per decision.
  private readonly batched: BatchedInc[] = [];
  private batch(child: Inc): BatchedInc {
    const b = new BatchedInc(child);
    this.batched.push(b);
    return b;
  }
  /** Adds what the batched counters counted to prom-client. */
  flushCounts(): void {
    for (const b of this.batched) b.flush();
  }
  private readonly eventsInChildren = new Map<string, Inc>();
  eventsIn(type: string): Inc {
    let c = this.eventsInChildren.get(type);
    if (!c) this.eventsInChildren.set(type, (c = this.batch(this.metrics.eventsIn.labels({ type }))));
    return c;
  }
  private readonly decisionsOutChildren = new Map<string, Map<string, Inc>>();
  decisionsOut(channel: string, arm: string): Inc {
    let byArm = this.decisionsOutChildren.get(channel);
    if (!byArm) this.decisionsOutChildren.set(channel, (byArm = new Map()));
    let c = byArm.get(arm);
    if (!c) byArm.set(arm, (c = this.batch(this.metrics.decisionsOut.labels({ channel, arm }))));
    return c;
  }
  private readonly outcomesOutChildren = new Map<string, Map<string, Inc>>();
  outcomesOut(channel: string, closedBy: string): Inc {
    let byCause = this.outcomesOutChildren.get(channel);
    if (!byCause) this.outcomesOutChildren.set(channel, (byCause = new Map()));
    let c = byCause.get(closedBy);
    if (!c) byCause.set(closedBy, (c = this.batch(this.metrics.outcomesOut.labels({ channel, closed_by: closedBy }))));
    return c;
  }
  private readonly outcomesChildren = new Map<string, Inc>();
  outcomes(cause: string): Inc {
    let c = this.outcomesChildren.get(cause);
    if (!c) this.outcomesChildren.set(cause, (c = this.batch(this.metrics.outcomes.labels({ cause }))));
    return c;
  }
}

function newHistogram(): Histogram {
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
}
