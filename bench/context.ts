// What the NATS sections share within one run: one nats-server -js (random port, temp store, file
// storage, as in production), the bench config, the generated event stream, and the preloaded EVENTS
// stream. Built lazily, so `--only pipeline` preloads by itself and `--only decide` starts nothing.
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { loadConfig, type Config } from "../src/config/index.ts";
import { connectNats, PipelinedPublisher, provision, startNatsServer, type NatsServerHandle } from "../src/io/nats/index.ts";
import { createLogger, type Logger } from "../src/log/index.ts";
import { spawnPart, type PartChild } from "./children.ts";
import { hold } from "./cleanup.ts";
import { EventSource, type WireEvent } from "./events.ts";

export interface BenchOptions {
  quick: boolean;
  /** A config overlay for every part the bench starts (diagnostics, e.g. checkpoint intervals). */
  overlay?: object | undefined;
  /** Run the processor children under `node --cpu-prof`, profiles in this directory. */
  profileDir?: string | undefined;
}

/** Sizes per mode: full ≤ 10 minutes, quick ≤ 2 minutes on 2 busy cores (issue #7). */
export interface Sizes {
  preloadEvents: number;
  /** Repeats of the ceiling and pipeline drains (interleaved, so a noisy phase hits both). */
  drainRepeats: number;
  latencySeconds: Record<number, number>;
  /** Memory points: customers, and how the store is filled (memory-child.ts). */
  memoryCustomers: [number, "step" | "store"][];
  /** Customers the processor holds when the recovery section kills it. */
  recoveryCustomers: number;
  fanoutSeconds: number;
}

export const SIZES: Record<"full" | "quick", Sizes> = {
  full: {
    preloadEvents: 200_000,
    drainRepeats: 3,
    latencySeconds: { 1000: 20, 5000: 15, 20000: 10 },
    memoryCustomers: [
      [10_000, "step"],
      [100_000, "step"],
      [1_000_000, "step"],
      [10_000_000, "store"],
    ],
    recoveryCustomers: 1_000_000,
    fanoutSeconds: 15,
  },
  quick: {
    preloadEvents: 30_000,
    drainRepeats: 1,
    latencySeconds: { 1000: 4, 5000: 3, 20000: 2 },
    memoryCustomers: [
      [10_000, "step"],
      [100_000, "store"],
    ],
    recoveryCustomers: 20_000,
    fanoutSeconds: 4,
  },
};

/** The processor as configured (config/default.json), with quieter logs and no HTTP of its own. */
export const BENCH_OVERLAY = { log: { level: "warn" }, processor: { metricsPort: 0 } } as const;

/** Objects merged key by key (config overlays); anything else from `b` replaces `a`. */
export function deepMerge(a: unknown, b: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
  return out;
}

export class BenchContext {
  readonly sizes: Sizes;
  readonly cfg: Readonly<Config>;
  readonly log: Logger;
  private server: NatsServerHandle | undefined;
  private conn: NatsConnection | undefined;
  private source: EventSource | undefined;
  private preload: { events: WireEvent[]; lastSeq: number; publishEventsPerSec: number; seconds: number } | undefined;
  private extra: NatsConnection[] = [];
  private live: PartChild | undefined;
  private releaseServer: (() => void) | undefined;

  constructor(readonly opts: BenchOptions) {
    this.sizes = opts.quick ? SIZES.quick : SIZES.full;
    this.cfg = loadConfig({ env: {}, overrides: this.overlay() });
    this.log = createLogger("warn", "bench");
  }

  async nats(): Promise<{ server: NatsServerHandle; nc: NatsConnection; jsm: JetStreamManager }> {
    if (!this.server) {
      this.server = await startNatsServer({ binary: this.cfg.nats.serverBinary, port: -1 });
      const server = this.server;
      this.releaseServer = hold(() => server.stop());
      this.conn = await connectNats(this.cfg.nats, this.server.url, "bench", this.log);
      await provision(this.conn, this.cfg, this.log);
    }
    return { server: this.server, nc: this.conn!, jsm: await jetstreamManager(this.conn!) };
  }

  events(): EventSource {
    return (this.source ??= new EventSource(this.cfg));
  }

  /**
   * EVENTS preloaded with `preloadEvents` events of the default mix, published the way the simulator
   * publishes (pipelined js.publish with msg ids, bounded in flight): the loader's acked rate is
   * `publishEventsPerSec`.
   */
  async preloaded(): Promise<{ events: WireEvent[]; lastSeq: number; publishEventsPerSec: number; seconds: number }> {
    if (this.preload) return this.preload;
    const { nc, jsm } = await this.nats();
    const events = this.events().take(this.sizes.preloadEvents);
    const before = (await jsm.streams.info(this.cfg.streams.events.name)).state.last_seq;
    const pub = new PipelinedPublisher(nc, this.cfg.simulator.maxInFlightPublishes);
    const t0 = performance.now();
    for (const e of events) {
      // Await only when the window is full (publish resolves at once otherwise).
      const r = pub.publish(e.subject, e.data, e.id);
      if (pub.pending >= pub.maxInFlight) await r;
    }
    if (!(await pub.flush())) throw new Error(`preloading EVENTS failed: ${pub.lastError?.message}`);
    const seconds = (performance.now() - t0) / 1000;
    const lastSeq = (await jsm.streams.info(this.cfg.streams.events.name)).state.last_seq;
    if (lastSeq - before !== events.length) throw new Error(`preloaded ${lastSeq - before} of ${events.length} events`);
    this.preload = { events, lastSeq, publishEventsPerSec: events.length / seconds, seconds };
    return this.preload;
  }

  /** The overlay every part gets: BENCH_OVERLAY, the run's --config, then `extra`. */
  overlay(extra: object = {}): object {
    return deepMerge(deepMerge(BENCH_OVERLAY, this.opts.overlay ?? {}), extra) as object;
  }

  /** Another connection to the bench's server (closed with the context). */
  async connect(name: string): Promise<NatsConnection> {
    const { server } = await this.nats();
    const nc = await connectNats(this.cfg.nats, server.url, name, this.log);
    this.extra.push(nc);
    return nc;
  }

  /** Node flags for part children: `--cpu-prof` into profileDir when asked. */
  nodeFlags(): string[] {
    return this.opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${this.opts.profileDir}`] : [];
  }

  /**
   * A processor child that stays up for the live sections (latency, fan-out), as configured. It
   * resumes from the last checkpoint a pipeline run left (or drains the stream from the start), and is
   * returned once it has caught up with everything in EVENTS.
   */
  async liveProcessor(overlay: object = {}): Promise<PartChild> {
    if (this.live) return this.live;
    const { server, jsm } = await this.nats();
    // spawnPart returns once the processor has started, i.e. after it recreated its consumer.
    this.live = await spawnPart("processor", { natsUrl: server.url, overlay: this.overlay(overlay), nodeFlags: this.nodeFlags() });
    const timeoutMs = this.opts.quick ? 120_000 : 600_000;
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        // Caught up: everything in the stream delivered and acknowledged. (A consumer created at the
        // end of the stream reports an ack floor of 0 until its first ack, so the floor cannot tell.)
        const ci = await jsm.consumers.info(this.cfg.streams.events.name, this.cfg.processor.durable);
        if (ci.num_pending === 0 && ci.num_ack_pending === 0) break;
      } catch {
        // not created yet
      }
      if (Date.now() > end) throw new Error(`the live processor did not catch up within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.live;
  }

  async stopLiveProcessor(): Promise<void> {
    const p = this.live;
    this.live = undefined;
    await p?.stop().catch(() => p.kill());
  }

  async close(): Promise<void> {
    await this.stopLiveProcessor();
    for (const nc of this.extra) if (!nc.isClosed()) await nc.drain().catch(() => undefined);
    this.extra = [];
    if (this.conn && !this.conn.isClosed()) await this.conn.drain().catch(() => undefined);
    await this.server?.stop();
    this.releaseServer?.();
    this.server = undefined;
    this.conn = undefined;
  }
}
