// kill -9 the processor mid-stream, restart it: every decision point still has exactly one decision,
// every decision that closed exactly one outcome, and the final state equals that of a run that was
// never interrupted on the same input. A promotion
// is launched (a promotion change in the log, as promo.control publishes it) after the last checkpoint
// the crashed run wrote and before the kill: the restart must find it again by replaying the log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig, type Config } from "../../src/config/index.ts";
import { createEngine, engineConfigFrom, engineToJSON, outcomeRecord, step, type EngineState } from "../../src/engine/index.ts";
import { Subjects, type Decision, type OutcomeRecord, type PromotionConfig, type Routed } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { loadCheckpoint, type ProcessorState } from "../../src/processor/index.ts";
import { rngFromKey, rngFromSeed } from "../../src/random/index.ts";
import { CheckpointStore } from "../../src/state/index.ts";
import { loadScenario, worldFromConfig } from "../../simulator/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { publishRouted, readStream } from "../support/streams.ts";
import { waitFor } from "../support/system.ts";

const base = loadConfig({ env: {} });
/** Checkpoints at every CHECKPOINT_EVERY events (and only then: the time bound is out of reach). */
const CHECKPOINT_EVERY = 4000;
const overlay = {
  processor: { checkpointEveryEvents: CHECKPOINT_EVERY, checkpointEverySec: 300 },
  // Small budgets and a scarce product so the guards bind during the run.
  promotions: base.promotions.map((p) => ({ ...p, budgetCents: p.id === "free-shipping" ? 20_000 : 60_000 })),
  // The input spans under 7 simulated minutes: with the default windows (30 min on the web, plus 5 min
  // of lateness) nothing would expire and the first purchases come late, so the kill would fall where
  // no outcome is in flight. A 60 s window and 30 s of lateness close decisions from the first 2,000
  // events on (about 4,000 outcomes, mostly expired), so the restart must publish some again.
  attribution: { windowSecByChannel: { ...base.attribution.windowSecByChannel, web: 60 } },
  features: { allowedLatenessSec: 30 },
  log: { level: "info" },
};
const cfg: Readonly<Config> = loadConfig({ env: {}, overrides: overlay });
const subjects = new Subjects();

/** Launched mid-run; the configuration does not know it. */
const FLASH: PromotionConfig = { id: "flash-home", name: "Flash sale: 15% off home", kind: "percent", percentOff: 15, category: "home", channels: ["web", "email", "push"], budgetCents: 40_000, maxDiscountCents: 2000 };

/** An event of the input, whether it is a decision point, and the ids of the outcomes it closed (as the in-process engine saw it). */
interface Input extends Routed {
  decides: boolean;
  outcomes: string[];
}

/**
 * The input: a simulated shop whose shoppers react to the same engine (in process, no delay), with
 * FLASH launched after the first `promotionAt` events (one event per partition, on the subjects and
 * with the ids promo.control uses). The engine is deterministic (draws seeded by event id), so the
 * events it decided on here are the decision points the processor must decide on, whatever the engine
 * takes a decision point to be.
 */
function input(promotionAt: number): Input[] {
  const world = worldFromConfig(cfg, loadScenario("steady"), { seed: 3, shoppers: 1500, visitsPerSec: 12 });
  const engine = createEngine(engineConfigFrom(cfg));
  const out: Input[] = [];
  const feed = (r: Routed) => {
    let decides = false;
    const outcomes: string[] = [];
    for (const eff of step(engine, r.event, rngFromKey(cfg.processor.seed, r.event.id)))
      if (eff.kind === "decision") {
        decides = true;
        world.onDecision(eff.decision);
      } else if (eff.kind === "outcome") outcomes.push(outcomeRecord(eff.outcome).id);
    out.push({ ...r, decides, outcomes });
  };
  for (let t = world.nowMs; out.length < 20_000; ) {
    t += 1000;
    for (const o of world.advance(t)) {
      if (o.kind !== "event") continue;
      feed({ subject: subjects.forEvent(o.event, cfg.partitions), event: o.event });
      if (out.length === promotionAt) for (const r of subjects.promotionChange(FLASH, "change-flash", o.event.ts, cfg.partitions)) feed(r);
    }
  }
  expect(engine.promotions.has(FLASH.id)).toBe(true);
  return out;
}

interface Run {
  server: NatsServerHandle;
  nc: NatsConnection;
  env: Record<string, string>;
}

async function prepare(events: readonly Input[]): Promise<Run> {
  const server = await jetstreamServer();
  const nc = await connect({ servers: server.url });
  await provision(nc, cfg, createLogger("silent"));
  await publishRouted(nc, events);
  return { server, nc, env: { NATS_URL: server.url, CONFIG_FILE: configFile(overlay) } };
}

async function drained(r: Run, lastSeq: number): Promise<void> {
  const jsm = await jetstreamManager(r.nc);
  await waitFor("the processor to drain the stream", async () => {
    const ci = await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable);
    return ci.ack_floor.stream_seq >= lastSeq && ci.num_pending === 0;
  }, 120_000, 50);
}

/** The state the run's last checkpoint restores to (its chain of parts), as JSON. */
async function finalState(r: Run): Promise<ProcessorState> {
  const restored = await loadCheckpoint(new CheckpointStore(r.nc, cfg.kv.stateBucket, cfg.processor.durable), engineConfigFrom(cfg));
  return JSON.parse(JSON.stringify({ engine: engineToJSON(restored!.engine), kpi: restored!.kpi.toJSON() })) as ProcessorState;
}

async function stopGracefully(c: Child): Promise<void> {
  c.signal("SIGTERM");
  expect(await c.exited).toBe(0);
}

let events: Input[];
/** Index of the first promotion event; its stream sequence is one more. */
let promotionAt: number;
let killAt: number;
let cut: number;

const decisionPointsOf = (evs: readonly Input[]) => evs.filter((r) => r.decides).map((r) => r.event.id);
let clean: Run;
let crashed: Run;
const children: Child[] = [];

beforeAll(async () => {
  // Where it happens, at random (fixed seed): the promotion a little after the k-th checkpoint's
  // point (k = 1…3), the kill point 300 events after it, and the crashed run's first part 1,500
  // events further. The next checkpoint would come only at (k+1)·CHECKPOINT_EVERY events, beyond the
  // first part: whatever the machine's speed, the crashed run's last checkpoint is from before the
  // promotion, which it had applied when it was killed.
  const rng = rngFromSeed(2026);
  promotionAt = CHECKPOINT_EVERY * (1 + Math.floor(3 * rng.next())) + 200 + Math.floor(1000 * rng.next());
  events = input(promotionAt);
  const killEvent = promotionAt + cfg.partitions + 300;
  killAt = decisionPointsOf(events.slice(0, killEvent)).length;
  expect(decisionPointsOf(events.slice(0, promotionAt + cfg.partitions)).length).toBeLessThan(killAt);
  // The crashed run gets its input in two parts: the kill comes before the second is published, so it
  // is always mid-stream however slowly this test notices the kill point on a busy machine.
  cut = killEvent + 1_500;
  expect(cut).toBeLessThan(Math.ceil(promotionAt / CHECKPOINT_EVERY) * CHECKPOINT_EVERY);
  [clean, crashed] = await Promise.all([prepare(events), prepare(events.slice(0, cut))]);
});

afterAll(async () => {
  for (const c of children) c.signal("SIGKILL");
  for (const r of [clean, crashed]) {
    await r?.nc.close();
    await r?.server.stop();
  }
});

describe("kill -9 of the processor", () => {
  it("loses nothing, doubles nothing, and ends in the same state as an uninterrupted run", async () => {
    const decisionPoints = decisionPointsOf(events);
    const lastSeq = events.length;

    // The reference: one uninterrupted run.
    const a = spawnPart("processor", clean.env);
    children.push(a);
    await drained(clean, lastSeq);
    await stopGracefully(a);

    // The same input, killed at a random point (fixed seed) between 20% and 80% of the decisions.
    expect(cut).toBeLessThan(events.length);
    const b1 = spawnPart("processor", crashed.env);
    children.push(b1);
    const jsm = await jetstreamManager(crashed.nc);
    // A checkpoint must exist to test its restore: the first is written in the background, and on a
    // busy machine the kill point can come before that write is done.
    const kv = await new Kvm(crashed.nc).open(cfg.kv.stateBucket);
    const checkpointed = async () => (await kv.get(`${cfg.processor.durable}.head`))?.operation === "PUT";
    await waitFor("decisions before the kill, and a checkpoint", async () => (await jsm.streams.info(cfg.streams.decisions.name)).state.messages >= killAt && (await checkpointed()), 120_000, 5);
    b1.signal("SIGKILL");
    await b1.exited;
    const atKill = (await jsm.streams.info(cfg.streams.decisions.name)).state.messages;
    expect(atKill).toBeLessThan(decisionPoints.length); // it really died mid-stream
    // Outcomes it had stored, and how far it had acknowledged EVENTS: the outcomes of later events that
    // were stored already are the ones the restart publishes again (same msg id) for OUTCOMES to drop.
    const outcomesAtKill = new Set((await readStream(crashed.nc, cfg.streams.outcomes.name)).map((m) => m.msgId));
    const ackFloorAtKill = (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq;
    const republished = events.slice(ackFloorAtKill).flatMap((r) => r.outcomes).filter((id) => outcomesAtKill.has(id)).length;
    // It had applied the promotion: decisions it stored weigh or exclude FLASH.
    const mentionsFlash = (d: Decision) => d.explanation.candidates.some((c) => c.promotionId === FLASH.id) || d.explanation.excluded.some((x) => x.promotionId === FLASH.id);
    const beforeKill = (await readStream(crashed.nc, cfg.streams.decisions.name)).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as Decision);
    expect(beforeKill.some(mentionsFlash)).toBe(true);
    await publishRouted(crashed.nc, events.slice(cut));
    const b2 = spawnPart("processor", crashed.env);
    children.push(b2);
    await drained(crashed, lastSeq);
    await stopGracefully(b2);
    // The checkpoint it restored is from before the promotion: only the log had it.
    const restored = b2.output().split("\n").find((l) => l.includes('"restored checkpoint"'));
    expect(restored).toBeDefined();
    expect((JSON.parse(restored!.slice(restored!.indexOf("{"))) as { streamSeq: number }).streamSeq).toBeLessThanOrEqual(promotionAt);

    // Exactly one decision per decision point.
    const stored = await readStream(crashed.nc, cfg.streams.decisions.name);
    const perEvent = new Map<string, number>();
    for (const m of stored) {
      const d = JSON.parse(new TextDecoder().decode(m.data)) as Decision;
      perEvent.set(d.eventId, (perEvent.get(d.eventId) ?? 0) + 1);
      expect(m.msgId).toBe(d.id);
    }
    expect(stored.length).toBe(decisionPoints.length);
    expect(decisionPoints.every((id) => perEvent.get(id) === 1)).toBe(true);

    // Exactly one stored outcome per decision that closed: the same ids as the uninterrupted run (and
    // as the in-process engine on the same input), each once, under its own msg id.
    const outcomeIds = async (r: Run): Promise<string[]> =>
      (await readStream(r.nc, cfg.streams.outcomes.name)).map((m) => {
        const o = JSON.parse(new TextDecoder().decode(m.data)) as OutcomeRecord;
        expect(m.msgId).toBe(o.id);
        expect(m.subject).toBe(`outcomes.${o.channel}`);
        return o.id;
      });
    const expectedOutcomes = events.flatMap((r) => r.outcomes);
    const [cleanOutcomes, crashedOutcomes] = [await outcomeIds(clean), await outcomeIds(crashed)];
    expect(new Set(crashedOutcomes).size).toBe(crashedOutcomes.length);
    expect(new Set(cleanOutcomes).size).toBe(cleanOutcomes.length);
    expect(new Set(crashedOutcomes)).toEqual(new Set(cleanOutcomes));
    expect(new Set(cleanOutcomes)).toEqual(new Set(expectedOutcomes));
    expect(expectedOutcomes.length).toBeGreaterThan(100);
    // Every outcome is of a decision stored in DECISIONS.
    const decisionIds = new Set(stored.map((m) => m.msgId));
    expect(crashedOutcomes.every((id) => decisionIds.has(id.slice(2)))).toBe(true);
    console.log(
      `crash test: ${decisionPoints.length} decisions, ${expectedOutcomes.length} outcomes stored once each; at the kill ${atKill} decisions and ${outcomesAtKill.size} outcomes stored, EVENTS acknowledged to ${ackFloorAtKill}; ${republished} stored outcomes published again by the restart`,
    );

    // The same final state as the uninterrupted run: posteriors, ledger, pending, features.
    const ref = await finalState(clean);
    const got = await finalState(crashed);
    expect(got.engine.arms).toEqual(ref.engine.arms);
    expect(got.engine).toEqual(ref.engine);
    expect(Object.values(got.engine.arms.arms).some((a) => a.global.s + a.global.f > 10)).toBe(true);
    // The promotion launched between checkpoints is there, and was offered.
    expect(got.engine.promotions.map((p) => p.id)).toContain(FLASH.id);
    const flashArm = got.engine.arms.arms[FLASH.id];
    expect(flashArm && flashArm.global.s + flashArm.global.f).toBeGreaterThan(0);

    // Guards held: spend within budget, no product promised beyond its stock.
    const engine: EngineState = got.engine;
    for (const [, b] of engine.ledger.budgets) expect(b.spentCents + b.reservedCents).toBeLessThanOrEqual(b.budgetCents);
    expect(engine.ledger.budgets.some(([, b]) => b.spentCents > 0)).toBe(true);
    for (const [, p] of engine.ledger.products) {
      expect(p.stock).toBeGreaterThanOrEqual(0);
      expect(p.reserved).toBeLessThanOrEqual(Math.max(0, p.stock));
    }
  });
});
