// A processor whose start fails (its KV bucket or stream missing, a restore that cannot be read) must
// let go of what it opened on the connection. A partitioned instance makes a new Processor at every lease
// round while a partition's start keeps failing, on the one connection it keeps: each failed start left
// its publisher's subscription (and its status iterator) behind, without bound.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { shopEvents } from "../../test/support/engine.ts";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { publishEvents } from "../../test/support/streams.ts";
import { testConfig, waitFor } from "../../test/support/system.ts";
import { createEngine, engineConfigFrom, ENGINE_STATE_VERSION, PARTS_VERSION, startTracking, step } from "../engine/index.ts";
import { ByteReader, FRAME, PART_VERSION } from "../features/index.ts";
import { provision } from "../io/nats/index.ts";
import { KpiAccumulator } from "../kpi/index.ts";
import { createLogger } from "../log/index.ts";
import { createMetrics } from "../metrics/index.ts";
import { rngFromKey } from "../random/index.ts";
import { PS_ERR_STATE, type ChainHead } from "../state/index.ts";
import { Checkpointer } from "./checkpointer.ts";
import { Processor } from "./processor.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** What the client holds open on the connection: subscriptions and status listeners (nats.js internals). */
const held = () => {
  const p = (nc as unknown as { protocol: { subscriptions: { size(): number }; listeners: unknown[] } }).protocol;
  return { subscriptions: p.subscriptions.size(), listeners: p.listeners.length };
};

it("lets go of its subscription and status listener when abandoned after a failed start, however often it is tried", async () => {
  // Nothing provisioned: the state bucket is missing, so the restore fails.
  const cfg = testConfig(server.url, { partitions: 2 });
  const failedStart = async () => {
    const p = new Processor(nc, cfg, createLogger("silent"), createMetrics(), { partition: 1, standalone: false, stillOwner: async () => true, leaseHeld: () => true });
    await expect(p.start()).rejects.toThrow();
    // As a partitioned instance does with a partition whose start failed (src/scale/instance.ts acquired()).
    p.abandon();
    // (A status iterator is let go on the next turn of the loop.)
    await new Promise((r) => setTimeout(r, 20));
  };
  // The first request makes the connection's one shared reply subscription (nats.js's mux): kept, and not the processor's.
  await failedStart();
  const before = held();
  for (let i = 0; i < 5; i++) await failedStart();
  expect(held()).toEqual(before);
});

/** A config of its own (subjects, streams and buckets named `<NAME>_…`), so each test's state stays apart on the shared server. */
function namespaced(name: string, extra: Parameters<typeof testConfig>[1] = {}) {
  const p = (s: string) => `${name}_${s}`;
  return testConfig(server.url, { ...extra, nats: { subjectPrefix: `${name.toLowerCase()}.` }, streams: { events: { name: p("EVENTS") }, decisions: { name: p("DECISIONS") }, outcomes: { name: p("OUTCOMES") }, deadletter: { name: p("DEADLETTER") } }, kv: { stateBucket: p("STATE"), inventoryBucket: p("INV"), leaseBucket: p("LEASES"), answersBucket: p("ANSWERS") } });
}

/** 300 shop events in cfg's stream, and the processor's checkpoint of them as it writes it; the events. */
async function checkpointed(cfg: ReturnType<typeof namespaced>, prefix: string) {
  await provision(nc, cfg, createLogger("silent"));
  const evs = shopEvents(9, 300);
  await publishEvents(nc, evs, cfg.partitions, prefix);
  const engine = createEngine(engineConfigFrom(cfg), { trackChanges: true });
  startTracking(engine, false);
  for (const ev of evs) step(engine, ev, rngFromKey(cfg.processor.seed, ev.id));
  const cp = new Checkpointer(nc, cfg.kv.stateBucket, cfg.processor.durable, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
  await cp.checkpoint(() => ({ seq: evs.length, engine, kpi: new KpiAccumulator() }), () => Promise.resolve(), { wait: true });
  return evs;
}

// A checkpoint damaged in the bucket (a chunk deleted, cut short or overwritten, a head that is no head)
// stops the start: an empty state would decide as if nothing had been learned, and count again what
// the checkpoint counted. The error must say what is damaged and the way out, which was not said: a head
// that was no JSON stopped it with the parser's bare "Expected property name or '}' in JSON at position
// 1", and a damaged part with "checkpoint part <key> fails its checksum", neither naming the bucket nor
// what to do.
it("refuses to start from a damaged checkpoint, naming the bucket, the damage and the way out", { timeout: 60_000 }, async () => {
  const cfg = namespaced("DMG");
  const evs = await checkpointed(cfg, "dmg.");
  const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
  const headKey = `${cfg.processor.durable}.head`;
  const head = (await kv.get(headKey))!;
  const part = head.json<ChainHead>().deltas[0]!.key;
  const chunk = (await kv.get(`${part}.c0`))!.value;
  const damages: [string, () => Promise<unknown>, RegExp][] = [
    ["a chunk deleted", () => kv.delete(`${part}.c0`), /missing chunk 0/],
    ["a chunk cut short", () => kv.put(`${part}.c0`, chunk.slice(0, chunk.length >> 1)), /fails its checksum/],
    ["a chunk overwritten", () => kv.put(`${part}.c0`, chunk.map((b) => b ^ 0x5a)), /fails its checksum/],
    ["a head that is no JSON", () => kv.put(headKey, "{not json"), /head .*is not a checkpoint head/],
  ];
  for (const [what, damage, says] of damages) {
    await kv.put(headKey, head.value);
    await kv.put(`${part}.c0`, chunk);
    await damage();
    const p = new Processor(nc, cfg, createLogger("silent"), createMetrics());
    const err: Error & { code?: string } = await p.start().then(
      () => new Error(`started from ${what}`),
      (e: unknown) => e as Error & { code?: string },
    );
    p.abandon();
    expect(err.code, what).toBe(PS_ERR_STATE.Corrupt);
    expect(err.message, what).toMatch(says);
    expect(err.message, what).toContain("DMG_STATE");
    // The way out: delete the head, and the state is rebuilt from the stream, which holds events 1 to 300.
    expect(err.message, what).toContain(`nats kv del DMG_STATE ${headKey}`);
    expect(err.message, what).toMatch(/DMG_EVENTS holds events 1 to 300/);
  }
});

// The checkpoint gone (its head deleted, as the fix above says to do, or the bucket deleted and made
// again by a start's provisioning) while the consumer shows events handled: the state is rebuilt by
// replaying EVENTS from its start. That is right while the stream holds every event, but it was said
// only as an info line ("replaying events handled before the restart"), the same as after any restart:
// an operator who had not deleted it would not learn the checkpoint was lost, nor that learning from
// events the stream no longer holds is lost with it.
it("says so when it finds no checkpoint although its consumer had handled events", { timeout: 60_000 }, async () => {
  const cfg = namespaced("LOST");
  await provision(nc, cfg, createLogger("silent"));
  await publishEvents(nc, shopEvents(11, 200), cfg.partitions, "lost.");
  const jsm = await jetstreamManager(nc);
  const floor = async () => (await jsm.consumers.info(cfg.streams.events.name, cfg.processor.durable)).ack_floor.stream_seq;
  const first = new Processor(nc, cfg, createLogger("silent"), createMetrics());
  await first.start();
  await waitFor("all 200 acknowledged", async () => (await floor()) >= 200);
  await first.stop();
  await (await new Kvm(nc).open(cfg.kv.stateBucket)).delete(`${cfg.processor.durable}.head`);
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger("info", "test:processor", { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  const second = new Processor(nc, cfg, log, createMetrics());
  await second.start();
  await second.stop();
  const warned = lines.filter((l) => l.level >= 40).map((l) => l.msg);
  expect(warned.some((m) => /no checkpoint.*LOST_STATE.*200.*LOST_EVENTS from its start/.test(m)), JSON.stringify(warned)).toBe(true);
});

// After a rollback, the newer build's checkpoint (an engine state version this build does not read)
// stopped the start with a plain Error and no code, naming neither the bucket nor the way out. It is whole,
// not damaged: the way out is a build that reads it, or the head deleted to rebuild from the stream. So is
// a part of a newer parts format (it was PS_ERR_STATE_CORRUPT, "part 0 is format 2; this build reads 1",
// with the advice for damage: a backup) or holding a newer customer store format (a bare RangeError,
// "feature store part version 3 is not supported", naming no bucket and no way out).
it("refuses a checkpoint a newer build wrote (engine state version, parts format, customer store format), naming the version, the bucket and the way out", { timeout: 60_000 }, async () => {
  const cfg = namespaced("VER");
  await checkpointed(cfg, "ver.");
  // The same checkpoint as a newer build would write it: the version in its delta, and the part's
  // checksum in the head to match (whole, not damaged).
  const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
  const headKey = `${cfg.processor.durable}.head`;
  const head = (await kv.get(headKey))!.json<ChainHead>();
  const ref = head.deltas[0]!;
  const original = await Promise.all(Array.from({ length: ref.chunks }, async (_, i) => (await kv.get(`${ref.key}.c${i}`))!.value.slice()));
  // The part's kind, its kind byte and its parts format, then the small state's frame (the engine
  // state's version in its JSON), then the customer store's header frame (its type, then its format):
  // all in the first chunk.
  const offsets = (part: Uint8Array) => {
    const r = new ByteReader();
    r.reset(part);
    r.byte();
    r.byte();
    const partsFormat = r.pos;
    expect(r.uvar()).toBe(PARTS_VERSION);
    expect(r.byte()).toBe(0x4a);
    r.bytes(r.uvar());
    expect(part[r.pos]).toBe(FRAME.header);
    const version = Buffer.from(part).toString("latin1").indexOf(`"version":${ENGINE_STATE_VERSION}`);
    expect(version).toBeGreaterThan(0);
    return { partsFormat, storeFormat: r.pos + 1, engineVersion: version + '"version":'.length };
  };
  const at = offsets(original[0]!);
  const newer: [string, number, number, RegExp][] = [
    ["engine state version 9", at.engineVersion, 0x39, /version 9 is not one this build reads \(it reads 3 and 4; it was written by a newer build\)/],
    ["parts format 2", at.partsFormat, PARTS_VERSION + 1, /checkpoint part 0 is parts format 2, written by a newer build \(this build reads parts format 1\)/],
    ["customer store format 3", at.storeFormat, PART_VERSION + 1, /checkpoint part 0 holds a customer store part of format 3, written by a newer build \(this build reads customer store formats 1 and 2\)/],
  ];
  for (const [what, offset, value, says] of newer) {
    const chunks = original.map((c) => c.slice());
    chunks[0]![offset] = value;
    await kv.put(`${ref.key}.c0`, chunks[0]!);
    const sha256 = chunks.reduce((h, c) => h.update(c), createHash("sha256")).digest("hex");
    await kv.put(headKey, JSON.stringify({ ...head, deltas: [{ ...ref, sha256 }] }));
    const p = new Processor(nc, cfg, createLogger("silent"), createMetrics());
    const err: Error & { code?: string } = await p.start().then(
      () => new Error(`started from ${what}`),
      (e: unknown) => e as Error & { code?: string },
    );
    p.abandon();
    expect(err.code, what).toBe(PS_ERR_STATE.Version);
    expect(err.message, what).toMatch(/the checkpoint in bucket VER_STATE .*cannot be read by this build/);
    expect(err.message, what).toMatch(says);
    expect(err.message, what).toContain("run a build that reads its version");
    expect(err.message, what).toContain(`nats kv del VER_STATE ${headKey}`);
    expect(err.message, what).toMatch(/VER_EVENTS holds events 1 to 300/);
  }
});

// Partitioned, a partition's processor whose checkpoint is damaged is started again by the lease rounds
// on their own: the advice "then start again" (right for `npm run processor`) did not apply there, and
// was repeated at every round.
it("tells a partition's operator that the lease rounds start it again, not to start it again", { timeout: 60_000 }, async () => {
  const cfg = namespaced("PDMG", { partitions: 2 });
  await provision(nc, cfg, createLogger("silent"));
  const kv = await new Kvm(nc).open(cfg.kv.stateBucket);
  const refusal = async (partition: number | undefined): Promise<Error & { code?: string }> => {
    const name = partition === undefined ? cfg.processor.durable : `${cfg.processor.durable}-p${partition}`;
    await kv.put(`${name}.head`, "{not json");
    const opts = partition === undefined ? {} : { partition, standalone: false, stillOwner: async () => true, leaseHeld: () => true };
    const p = new Processor(nc, cfg, createLogger("silent"), createMetrics(), opts);
    const err = await p.start().then(
      () => new Error("started"),
      (e: unknown) => e as Error & { code?: string },
    );
    p.abandon();
    return err;
  };
  const partitioned = await refusal(1);
  expect(partitioned.code).toBe(PS_ERR_STATE.Corrupt);
  expect(partitioned.message).toContain(`nats kv del PDMG_STATE ${cfg.processor.durable}-p1.head, and the lease rounds start partition 1 again by themselves`);
  expect(partitioned.message).not.toContain("then start again");
  // Standalone, starting it again is the operator's.
  const standalone = await refusal(undefined);
  expect(standalone.message).toContain(`nats kv del PDMG_STATE ${cfg.processor.durable}.head, then start again`);
});
