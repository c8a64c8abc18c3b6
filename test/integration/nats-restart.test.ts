// Stop and restart nats-server (kill -9, same port and store) while the simulator and the processor
// run: both reconnect and resume; nothing is lost and nothing is doubled, decisions and outcomes alike.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Decision, OutcomeRecord, ShopEvent } from "../../src/events/index.ts";
import type { DeadLetter } from "../../src/io/nats/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { readStream } from "../support/streams.ts";
import { createEngine, engineConfigFrom, outcomeRecord, step } from "../../src/engine/index.ts";
import { rngFromKey } from "../../src/random/index.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

const store = mkdtempSync(join(tmpdir(), "ps-restart-"));
let server: NatsServerHandle | undefined;
let sys: Running | undefined;
let nc: NatsConnection | undefined;

afterAll(async () => {
  await nc?.close();
  await sys?.stop();
  await server?.stop();
  rmSync(store, { recursive: true, force: true });
});

const decode = <T>(d: Uint8Array) => JSON.parse(new TextDecoder().decode(d)) as T;

describe("nats-server restart mid-stream", () => {
  it("the simulator and the processor reconnect and resume; every event is stored once, every decision point decided once, every closed decision's outcome stored once", async () => {
    const port = await freePort();
    server = await jetstreamServer({ port, storeDir: store });
    // Short web windows, so decisions also close by expiring while the server is down and after.
    const web = { windowSecByChannel: { web: 60, email: 172800, sms: 86400, push: 43200 } };
    sys = await startParts("all", testConfig(server.url, { simulator: { speed: 60 }, processor: { checkpointEverySec: 2 }, attribution: web, features: { allowedLatenessSec: 30 } }));
    const sim = sys.simulator!;
    const proc = sys.processor!;
    await waitFor("traffic before the crash", () => proc.kpi.decisions > 30);

    await server.kill9();
    await new Promise((r) => setTimeout(r, 1_500));
    server = await jetstreamServer({ port, storeDir: store });
    const atRestart = { events: sim.world.counts.events, decisions: proc.kpi.decisions };
    await waitFor("the simulator to publish again", () => sim.world.counts.events > atRestart.events + 200, 30_000);
    await waitFor("the processor to decide again", () => proc.kpi.decisions > atRestart.decisions + 30, 30_000);

    // Stop the shop, let everything in flight land, and let the processor catch up.
    await sim.stop();
    expect(sim.status().publishFailures).toBe(0);
    nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info("EVENTS")).state.last_seq;
    await waitFor("the processor to drain", async () => (await jsm.consumers.info("EVENTS", "processor")).ack_floor.stream_seq >= last, 60_000, 100);

    // Every event the world made is in the stream exactly once.
    const events = (await readStream(nc, "EVENTS")).map((m) => decode<ShopEvent>(m.data));
    const ids = new Set(events.map((e) => e.id));
    expect(ids.size).toBe(events.length);
    expect(events.length).toBe(sim.world.counts.events);

    // Count in = count out + dead letters, for decision points: the events an engine deciding on the
    // stream in its order (as the processor reads it) decides at.
    const cfg = testConfig(server.url, { attribution: web, features: { allowedLatenessSec: 30 } });
    const replayed = createEngine(engineConfigFrom(cfg));
    const points: string[] = [];
    const closed: string[] = [];
    for (const e of events)
      for (const f of step(replayed, e, rngFromKey(cfg.processor.seed, e.id))) {
        if (f.kind === "decision") points.push(e.id);
        else if (f.kind === "outcome") closed.push(outcomeRecord(f.outcome).id);
      }
    expect(points.length).toBeGreaterThan(30);
    const decisions = (await readStream(nc, "DECISIONS")).map((m) => decode<Decision>(m.data));
    const dead = new Set((await readStream(nc, "DEADLETTER")).map((m) => decode<DeadLetter>(m.data).eventId));
    const decided = new Map<string, number>();
    for (const d of decisions) decided.set(d.eventId, (decided.get(d.eventId) ?? 0) + 1);
    expect([...decided.values()].every((n) => n === 1)).toBe(true);
    for (const id of points) expect(decided.has(id) || dead.has(id), id).toBe(true);
    expect(decisions.length + points.filter((id) => dead.has(id)).length).toBe(points.length);

    // Every decision that closed has its outcome stored, once.
    const outcomes = (await readStream(nc, "OUTCOMES")).map((m) => decode<OutcomeRecord>(m.data).id);
    expect(closed.length).toBeGreaterThan(10);
    expect(new Set(outcomes).size).toBe(outcomes.length);
    expect(new Set(outcomes)).toEqual(new Set(closed));
  });
});
