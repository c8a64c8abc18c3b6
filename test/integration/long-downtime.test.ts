// A processor killed between a flush's publishes and its ack leaves decisions and outcomes stored for
// events it never acknowledged. Its restart replays those events and publishes the same ids again;
// DECISIONS and OUTCOMES drop the copies while their duplicate windows remember the ids, and after a
// longer downtime the restart must skip them itself. The windows here are 2 s, and the restart comes
// after them: every decision point still has one decision, every closed decision one outcome, and every
// malformed event one dead letter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig, type Config } from "../../src/config/index.ts";
import { createEngine, engineConfigFrom, outcomeRecord, step } from "../../src/engine/index.ts";
import { fitDecision, Subjects, type Decision, type OutcomeRecord, type Routed } from "../../src/events/index.ts";
import { PipelinedPublisher, provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { rngFromKey } from "../../src/random/index.ts";
import { loadScenario, worldFromConfig } from "../../simulator/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { publishRouted, readStream } from "../support/streams.ts";
import { waitFor } from "../support/system.ts";

const base = loadConfig({ env: {} });
const WINDOW_SEC = 2;
const overlay = {
  processor: { checkpointEverySec: 1 },
  streams: { decisions: { duplicateWindowSec: WINDOW_SEC }, outcomes: { duplicateWindowSec: WINDOW_SEC }, deadletter: { duplicateWindowSec: WINDOW_SEC } },
  // Short attribution so decisions close (and outcomes are published) within the input's few minutes.
  attribution: { windowSecByChannel: { ...base.attribution.windowSecByChannel, web: 60 } },
  features: { allowedLatenessSec: 30 },
  log: { level: "info" },
};
const cfg: Readonly<Config> = loadConfig({ env: {}, overrides: overlay });
const subjects = new Subjects();

/** The first run handles these events, and stops cleanly; the killed run handles the rest. */
const FIRST = 4_000;
const TOTAL = 8_000;
/** Of the rest, the killed run had stored the publishes of this many events, and acknowledged none. */
const STORED_UNACKED = 2_000;
/** Malformed events among those: the killed run had dead-lettered them too (`dl-<seq>`). */
const BAD = 3;

interface Input extends Routed {
  decision: Decision | undefined;
  outcomes: OutcomeRecord[];
}

/** A simulated shop's events, and what the (deterministic) engine decides and closes at each, in process. */
function input(): Input[] {
  const world = worldFromConfig(cfg, loadScenario("steady"), { seed: 11, shoppers: 800, visitsPerSec: 12 });
  const engine = createEngine(engineConfigFrom(cfg));
  const out: Input[] = [];
  for (let t = world.nowMs; out.length < TOTAL; ) {
    t += 1000;
    for (const o of world.advance(t)) {
      if (o.kind !== "event" || out.length >= TOTAL) continue;
      let decision: Decision | undefined;
      const outcomes: OutcomeRecord[] = [];
      for (const eff of step(engine, o.event, rngFromKey(cfg.processor.seed, o.event.id)))
        if (eff.kind === "decision") {
          decision = eff.decision;
          world.onDecision(eff.decision);
        } else if (eff.kind === "outcome") outcomes.push(outcomeRecord(eff.outcome));
      out.push({ subject: subjects.forEvent(o.event, cfg.partitions), event: o.event, decision, outcomes });
    }
  }
  return out;
}

let server: NatsServerHandle;
let nc: NatsConnection;
let env: Record<string, string>;
const children: Child[] = [];

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, cfg, createLogger("silent"));
  env = { NATS_URL: server.url, CONFIG_FILE: configFile(overlay) };
});

afterAll(async () => {
  for (const c of children) c.signal("SIGKILL");
  await nc?.close();
  await server?.stop();
});

async function runUntilAcked(lastSeq: number): Promise<Child> {
  const p = spawnPart("processor", env);
  children.push(p);
  const jsm = await jetstreamManager(nc);
  await waitFor("the processor to acknowledge the stream", async () => {
    const ci = await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable).catch(() => undefined);
    return ci !== undefined && ci.ack_floor.stream_seq >= lastSeq && ci.num_pending === 0;
  }, 120_000, 50);
  p.signal("SIGTERM");
  expect(await p.exited).toBe(0);
  return p;
}

describe("a restart after the duplicate windows have passed", () => {
  it("skips the decisions, outcomes and dead letters the run before stored and did not acknowledge", async () => {
    const events = input();
    const decisionPoints = events.filter((r) => r.decision).length;
    const expectedOutcomes = events.flatMap((r) => r.outcomes.map((o) => o.id));
    await publishRouted(nc, events.slice(0, FIRST));
    await runUntilAcked(FIRST);

    // What a run killed before its ack had stored: the decisions and outcomes of the next events, under
    // their msg ids, on the subjects the processor uses (the engine is deterministic: the same ids).
    // Three malformed events in the middle of what the killed run had handled; the run dead-lettered them.
    await publishRouted(nc, events.slice(FIRST, FIRST + STORED_UNACKED / 2));
    const js = jetstream(nc);
    const badSeqs: number[] = [];
    for (let i = 0; i < BAD; i++) badSeqs.push((await js.publish(subjects.forEvent(events[FIRST]!.event, cfg.partitions), `{"type":"view","broken":${i}`)).seq);
    await publishRouted(nc, events.slice(FIRST + STORED_UNACKED / 2));
    const pub = new PipelinedPublisher(nc, 1000);
    for (const seq of badSeqs) await pub.publish(subjects.deadletter, JSON.stringify({ reason: "malformed", streamSeq: seq }), `dl-${seq}`);
    let stored = { decisions: 0, outcomes: 0 };
    for (const r of events.slice(FIRST, FIRST + STORED_UNACKED)) {
      if (r.decision) {
        await pub.publish(subjects.decision(r.decision.channel), fitDecision(r.decision, cfg.streams.decisions.maxMsgBytes - 512).json, r.decision.id);
        stored.decisions++;
      }
      for (const o of r.outcomes) {
        await pub.publish(subjects.outcome(o.channel), JSON.stringify(o), o.id);
        stored.outcomes++;
      }
    }
    expect(await pub.flush()).toBe(true);
    expect(stored.decisions).toBeGreaterThan(100);
    expect(stored.outcomes).toBeGreaterThan(200);
    // The streams forget the ids.
    await new Promise((r) => setTimeout(r, (WINDOW_SEC + 1) * 1000));

    const restarted = await runUntilAcked(TOTAL + BAD);

    const decisions = await readStream(nc, cfg.streams.decisions.name);
    const perEvent = new Map<string, number>();
    for (const m of decisions) {
      const d = JSON.parse(new TextDecoder().decode(m.data)) as Decision;
      perEvent.set(d.eventId, (perEvent.get(d.eventId) ?? 0) + 1);
    }
    expect([...perEvent.values()].filter((n) => n > 1).length).toBe(0);
    expect(decisions.length).toBe(decisionPoints);
    const outcomes = (await readStream(nc, cfg.streams.outcomes.name)).map((m) => m.msgId!);
    expect(outcomes.length - new Set(outcomes).size).toBe(0);
    expect(new Set(outcomes)).toEqual(new Set(expectedOutcomes));
    const deadLetters = (await readStream(nc, cfg.streams.deadletter.name)).map((m) => m.msgId);
    expect(deadLetters.sort()).toEqual(badSeqs.map((q) => `dl-${q}`).sort());
    expect(restarted.output()).toContain('"read the ids stored since the first unacknowledged event');
    console.log(`long downtime: ${decisionPoints} decisions and ${expectedOutcomes.length} outcomes stored once each; ${stored.decisions} decisions and ${stored.outcomes} outcomes were stored before the restart, unacknowledged`);
  });
});
