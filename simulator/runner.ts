// The simulator's shell: runs the world on a clock (speed × real time, or as fast as the bus takes
// it), publishes its events to JetStream, its truth to sim.truth, and lets shoppers react to decisions.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Config, PromotionConfig } from "../src/config/index.ts";
import { LRUCache } from "lru-cache";
import { decodeDecision, encodeEvent, EVENT_TYPES, INTERNAL_EVENT_TYPES, Subjects, type EventType, type ShopEvent } from "../src/events/index.ts";
import { PipelinedPublisher } from "../src/io/nats/index.ts";
import type { Logger } from "../src/log/index.ts";
import { JetStreamSink } from "./replay/sink.ts";
import { listScenarios, loadScenario, World, worldFromConfig, type Scenario, type WorldCounts, type WorldOutput } from "./world/index.ts";

export type Speed = number | "max";

export interface SimStatus {
  running: boolean;
  speed: Speed;
  scenario: string;
  seed: number;
  simTimeMs: number;
  /** Events published per real second, over the last seconds. */
  ratePerSec: number;
  published: number;
  publishFailures: number;
  /** Decisions received again (a processor republishes after a crash) and ignored. */
  decisionsRepeated: number;
  /** Messages on decisions.> that are not a decision of the contract, ignored. */
  decisionsUnreadable: number;
  counts: WorldCounts;
  scenarios: string[];
}

export type SimCommand =
  | { cmd: "pause" }
  | { cmd: "resume" }
  | { cmd: "status" }
  | { cmd: "speed"; value: Speed }
  | { cmd: "scenario"; value: string }
  | { cmd: "seed"; value: number }
  | { cmd: "catalog" };

/** One product as a shop window shows it (`{"cmd":"catalog"}`): no cost, which is the shop's own business. */
export interface CatalogItem {
  id: string;
  name: string;
  category: string;
  priceCents: number;
  /** Units in stock now, in the simulated shop. */
  stock: number;
}

export type SimReply = { ok: true; status: SimStatus; catalog?: CatalogItem[] } | { ok: false; error: string; status: SimStatus };

const MIN_SPEED = 0.1;
const MAX_SPEED = 100;
/**
 * Decision ids remembered to drop a repeat. A processor republishes, after a crash, the decisions it
 * had not yet acknowledged (a flush's worth: hundreds); the stream drops them by msg id, but this core
 * subscription sees them again (README, "Reading decisions").
 */
const SEEN_DECISIONS = 50_000;

/** Parses and checks a control request; returns an error text for anything malformed. */
export function parseCommand(raw: unknown): SimCommand | string {
  if (typeof raw !== "object" || raw === null) return "request must be a JSON object like {\"cmd\":\"status\"}";
  const r = raw as { cmd?: unknown; value?: unknown };
  switch (r.cmd) {
    case "pause":
    case "resume":
    case "status":
    case "catalog":
      return { cmd: r.cmd };
    case "speed":
      if (r.value === "max") return { cmd: "speed", value: "max" };
      if (typeof r.value === "number" && r.value >= MIN_SPEED && r.value <= MAX_SPEED) return { cmd: "speed", value: r.value };
      return `speed must be a number from ${MIN_SPEED} to ${MAX_SPEED} or "max"`;
    case "scenario":
      if (typeof r.value === "string" && listScenarios().includes(r.value)) return { cmd: "scenario", value: r.value };
      return `scenario must be one of ${listScenarios().join(", ")}`;
    case "seed":
      if (typeof r.value === "number" && Number.isInteger(r.value) && r.value >= 0 && r.value <= 0xffffffff) return { cmd: "seed", value: r.value };
      return "seed must be an integer from 0 to 4294967295";
    default:
      return `unknown cmd ${JSON.stringify(r.cmd)}; use pause, resume, status, catalog, speed, scenario or seed`;
  }
}

/** The shop's own events (customer events and inventory): what a restarted simulator resumes after. */
const SHOP_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((t) => !INTERNAL_EVENT_TYPES.includes(t) && t !== "promotion" && t !== "mode");

export class SimulatorRunner {
  world: World;
  private speed: Speed;
  private running = true;
  private seed: number;
  private scenarioName: string;
  private readonly subjects: Subjects;
  private readonly publisher: PipelinedPublisher;
  /** Retries a failed publish with the same msg id (a NATS restart must not lose simulated events). */
  private readonly sink: JetStreamSink;
  private readonly subs: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private loopDone: Promise<void> | undefined;
  private stopped = false;
  private lastRealMs = performance.now();
  private rate = 0;
  private rateMark = { t: performance.now(), n: 0 };
  private readonly enc = new TextEncoder();
  private startMs: number;
  private readonly seenDecisions = new LRUCache<string, true>({ max: SEEN_DECISIONS });
  private decisionsRepeated = 0;
  private decisionsUnreadable = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    opts: { startMs?: number } = {},
  ) {
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.publisher = new PipelinedPublisher(nc, cfg.simulator.maxInFlightPublishes);
    this.sink = new JetStreamSink(this.publisher, 40);
    this.speed = cfg.simulator.speed;
    this.seed = cfg.simulator.seed;
    this.scenarioName = cfg.simulator.scenario;
    this.startMs = opts.startMs ?? Date.parse(cfg.simulator.startTime);
    this.world = this.makeWorld(this.startMs);
  }

  private makeWorld(startMs: number, scenario: Scenario = loadScenario(this.scenarioName)): World {
    return worldFromConfig(this.cfg, scenario, { seed: this.seed, startMs });
  }

  /**
   * Where the clock starts: the configured start, or just after the newest shop event already in the
   * stream, so a restarted simulator neither reuses event ids nor sends events the engine counts late.
   * Only the shop's own events count (customer events and inventory): partitioned processors publish
   * `sync` and `allowance` events every second stamped with the wall clock, and promotion and mode
   * changes carry the time they were asked for; the newest message of the stream, taken as it was, put
   * the simulated clock at today.
   */
  private async resumeTime(): Promise<number> {
    try {
      const jsm = await jetstreamManager(this.nc);
      const stream = this.cfg.streams.events.name;
      if ((await jsm.streams.info(stream)).state.last_seq === 0) return this.startMs;
      let newest = -Infinity;
      for (const type of SHOP_EVENT_TYPES) {
        const m = await jsm.streams.getMessage(stream, { last_by_subj: `${this.subjects.prefix}events.${type}.>` });
        const ts = (m?.json<{ ts?: unknown }>() ?? {}).ts;
        if (typeof ts === "number" && ts > newest) newest = ts;
      }
      return newest + 1000 > this.startMs ? newest + 1000 : this.startMs;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "could not read the newest event in the stream; the simulator starts at simulator.startTime");
      return this.startMs;
    }
  }

  async start(): Promise<void> {
    const resume = await this.resumeTime();
    if (resume !== this.startMs) {
      this.startMs = resume;
      this.world = this.makeWorld(resume);
      this.log.info({ simTime: new Date(resume).toISOString() }, "simulator resumes after the newest event in the stream");
    }
    this.subs.push(
      this.nc.subscribe(this.subjects.decisionsAll, {
        callback: (err, m) => {
          if (!err) this.onDecision(m.data);
        },
      }),
    );
    this.subs.push(
      this.nc.subscribe(this.subjects.simControl, {
        callback: (err, m) => {
          if (err) return;
          let raw: unknown;
          try {
            raw = m.json();
          } catch {
            raw = undefined;
          }
          // An exception here would reach the client's parser and close the connection's reader: no
          // reply, and every later request on the connection (the processor's too, in one process) hung.
          let reply: SimReply;
          try {
            reply = this.control(raw);
          } catch (err) {
            reply = { ok: false, error: (err as Error).message, status: this.status() };
          }
          m.respond(this.enc.encode(JSON.stringify(reply)));
        },
      }),
    );
    // The server has the subscriptions once this round trip is back: "running" means sim.control answers
    // (a request from another connection right after start otherwise found no responders).
    await this.nc.flush();
    this.rateTimer = setInterval(() => this.measureRate(), 500);
    this.lastRealMs = performance.now();
    this.loopDone = this.loop();
    this.log.info({ scenario: this.scenarioName, seed: this.seed, speed: this.speed }, "simulator running");
  }

  /** A decision reaches its shopper once, however often it is published. */
  private onDecision(data: Uint8Array): void {
    const d = decodeDecision(data);
    if (!d.ok) {
      // Not a decision of the contract: the shopper simply sees nothing, and it is counted.
      if (this.decisionsUnreadable++ === 0) this.log.warn({ reason: d.reason, detail: d.detail }, "unreadable message on decisions.> ignored (counted in the simulator's status)");
      return;
    }
    if (this.seenDecisions.has(d.value.id)) {
      this.decisionsRepeated++;
      return;
    }
    this.seenDecisions.set(d.value.id, true);
    this.world.onDecision(d.value);
  }

  private measureRate(): void {
    const now = performance.now();
    const n = this.publisher.published;
    const inst = ((n - this.rateMark.n) * 1000) / Math.max(1, now - this.rateMark.t);
    this.rate = this.rate === 0 ? inst : 0.5 * this.rate + 0.5 * inst;
    this.rateMark = { t: now, n };
  }

  status(): SimStatus {
    return {
      running: this.running,
      speed: this.speed,
      scenario: this.scenarioName,
      seed: this.seed,
      simTimeMs: this.world.nowMs,
      ratePerSec: Math.round(this.rate * 10) / 10,
      published: this.publisher.published,
      publishFailures: this.sink.stats.failed,
      decisionsRepeated: this.decisionsRepeated,
      decisionsUnreadable: this.decisionsUnreadable,
      counts: { ...this.world.counts },
      scenarios: listScenarios(),
    };
  }

  /** The world's products as they are now (a shop window for /shop: the server relays it as GET /api/catalog). */
  catalog(): CatalogItem[] {
    return this.world.products.map((p) => ({ id: p.id, name: p.name, category: p.category, priceCents: p.priceCents, stock: p.stock }));
  }

  control(raw: unknown): SimReply {
    const c = parseCommand(raw);
    if (typeof c === "string") return { ok: false, error: c, status: this.status() };
    switch (c.cmd) {
      case "pause":
        this.running = false;
        break;
      case "resume":
        this.running = true;
        this.lastRealMs = performance.now();
        break;
      case "speed":
        this.speed = c.value;
        this.lastRealMs = performance.now();
        break;
      case "scenario": {
        // Read before anything changes: a file in config/scenarios that is no valid scenario (one added
        // by hand) is answered with its problem, and the simulator goes on in the scenario it had.
        const next = this.tryLoadScenario(c.value);
        if (typeof next === "string") return { ok: false, error: next, status: this.status() };
        this.scenarioName = c.value;
        this.world.setScenario(next);
        break;
      }
      case "seed": {
        const scenario = this.tryLoadScenario(this.scenarioName);
        if (typeof scenario === "string") return { ok: false, error: scenario, status: this.status() };
        this.seed = c.value;
        // The new world starts from the configured promotions: restarting the scenario on the old
        // one first yields what it must tell the processor to get there (budgets the scenario cut,
        // promotions it launched), which the new world would otherwise never undo.
        const old = this.world;
        old.setScenario(scenario);
        // advance() to a time already past runs nothing and hands back what setScenario output.
        const restore = old.advance(old.nowMs - 1).filter((o) => o.kind === "promotion");
        // A whole millisecond: the old clock runs on real time × speed, with fractions, and a world started
        // there could stamp its events with a fractional ts, which the contract refuses (dead-lettered).
        this.world = this.makeWorld(Math.ceil(old.nowMs) + 1000, scenario);
        void this.emit(restore).catch((err: Error) => this.log.warn({ err: err.message }, "could not announce the restored promotions"));
        break;
      }
      case "status":
        break;
      case "catalog":
        return { ok: true, status: this.status(), catalog: this.catalog() };
    }
    if (c.cmd !== "status") this.log.info({ cmd: c.cmd, value: "value" in c ? c.value : undefined }, "simulator control");
    return { ok: true, status: this.status() };
  }

  /** The scenario, or why its file cannot be used. */
  private tryLoadScenario(name: string): Scenario | string {
    try {
      return loadScenario(name);
    } catch (err) {
      return (err as Error).message;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const realNow = performance.now();
      const elapsed = realNow - this.lastRealMs;
      this.lastRealMs = realNow;
      if (this.running) {
        let outputs: WorldOutput[];
        if (this.speed === "max") {
          // As fast as the bus takes it: a slice of simulated time per turn, backpressured by the publisher.
          outputs = this.world.advance(this.world.nowMs + 5_000);
        } else outputs = this.world.advance(this.world.nowMs + elapsed * this.speed);
        try {
          await this.emit(outputs);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, "simulator publish failed");
        }
      }
      if (this.stopped) break;
      if (this.speed === "max" && this.running) await new Promise((r) => setImmediate(r));
      else
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = setTimeout(r, this.cfg.simulator.tickMs);
        });
    }
  }

  private async emit(outputs: WorldOutput[]): Promise<void> {
    for (const o of outputs) {
      if (o.kind === "event") await this.publishEvent(o.event);
      else if (o.kind === "truth") this.nc.publish(this.subjects.simTruth, this.enc.encode(JSON.stringify(o.truth)));
      else if (o.kind === "promotion") void this.announce(o.promotion);
      else this.log.info({ note: o.text, simTime: new Date(this.world.nowMs).toISOString() }, "scenario");
    }
  }

  private async publishEvent(e: ShopEvent): Promise<void> {
    const subject = this.subjects.forEvent(e, this.cfg.partitions);
    await this.sink.publish(subject, encodeEvent(e), e.id);
  }

  private async announce(p: PromotionConfig): Promise<void> {
    try {
      const r = await this.nc.request(this.subjects.promoControl, this.enc.encode(JSON.stringify({ op: "upsert", promotion: p })), { timeout: 2_000 });
      this.log.info({ promotion: p.id, reply: r.json() }, "promotion announced to the processor");
    } catch (err) {
      this.log.warn({ promotion: p.id, err: (err as Error).message }, "no processor answered promo.control; the promotion is live only in the simulator");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    if (this.rateTimer) clearInterval(this.rateTimer);
    await this.loopDone;
    for (const s of this.subs) s.unsubscribe();
    await this.sink.flush();
    this.log.info({ published: this.publisher.published, failed: this.sink.stats.failed }, "simulator stopped");
  }
}
