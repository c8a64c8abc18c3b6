// The checkpointer's chains on a real JetStream KV (issue #16): deltas appended, a base joining the
// chain with the delta after it, old parts purged, a lost delta healed by a new base; every head it
// writes restores the state as it was at that checkpoint.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { waitFor } from "../../test/support/system.ts";
import { shopEvents } from "../../test/support/engine.ts";
import { loadConfig } from "../config/index.ts";
import { createEngine, engineConfigFrom, engineToJSON, startTracking, step } from "../engine/index.ts";
import { KpiAccumulator } from "../kpi/index.ts";
import { createLogger } from "../log/index.ts";
import { createMetrics } from "../metrics/index.ts";
import { rngFromKey } from "../random/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { CheckpointStore, type ChainHead } from "../state/index.ts";
import { Checkpointer, loadCheckpoint } from "./checkpointer.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
const BUCKET = "CKPT_TEST";

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await new Kvm(nc).create(BUCKET, { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const cfg = engineConfigFrom(loadConfig({ env: {}, overrides: { features: { maxCustomers: 40, idleTtlSec: 3600, recentEventIds: 500 }, guards: { frequencyCaps: { email: { windowSec: 3600 }, sms: { windowSec: 3600 }, push: { windowSec: 3600 } } }, attribution: { maxPending: 200, windowSecByChannel: { web: 1800, email: 3600, sms: 3600, push: 3600 } } } }));
const evs = shopEvents(5, 4000);
/** The default configuration, for the cases that need no small store. */
const defaults = engineConfigFrom(loadConfig({ env: {} }));

async function head(name: string): Promise<ChainHead> {
  const kv = await new Kvm(nc).open(BUCKET);
  return (await kv.get(`${name}.head`))!.json<ChainHead>();
}

/** The part keys (chunk keys without `.c<i>`) with any message in the bucket's stream: a purge marker counts too. */
async function partKeys(name: string): Promise<Set<string>> {
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info(`KV_${BUCKET}`, { subjects_filter: `$KV.${BUCKET}.${name}.>` });
  const keys = new Set<string>();
  for (const subject of Object.keys(si.state.subjects ?? {})) {
    const key = subject.slice(`$KV.${BUCKET}.`.length);
    if (!key.endsWith(".head")) keys.add(key.replace(/\.c\d+$/, ""));
  }
  return keys;
}

describe("Checkpointer", () => {
  it("appends deltas, starts a new chain from a base, purges the old one, and every head restores its state", async () => {
    const name = "chain";
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const cp = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9, basePolicy: { share: 0.5, bytes: 1, deltas: 3 } }, createMetrics(), createLogger("silent"));
    const shapes: string[] = [];
    let seq = 0;
    for (let round = 0; round < 8; round++) {
      for (let k = 0; k < 400; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
      // Written beside more events, as the processor does; the next checkpoint waits for this one.
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve());
      for (let k = 0; k < 50; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      const h = await head(name);
      shapes.push(`${h.base ? "B" : "-"}${h.deltas.length}${h.nextBase ? "+" : ""}`);
      const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
      expect(restored!.streamSeq).toBe(seq);
      expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
      // Only the parts the head names are left in the bucket, and no markers of the ones purged.
      const named = new Set([h.base, h.nextBase, ...h.deltas].filter((r) => r).map((r) => r!.key));
      expect(await partKeys(name)).toEqual(named);
    }
    // From nothing: deltas; a base once the policy asks (here after 1 byte), joining with the next delta.
    expect(shapes[0]).toBe("-2+");
    expect(shapes.some((s) => s.startsWith("B"))).toBe(true);
    expect(shapes.every((s) => Number(s.slice(1, 2)) <= 4)).toBe(true);
  });

  it("writes no base at the final checkpoint (a stop's), even when one is due; the next run's first one does", async () => {
    const name = "final";
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    // A base is due after any delta (1 byte).
    const policy = { everyEvents: 1e9, everyMs: 1e9, basePolicy: { share: 0.5, bytes: 1, deltas: 3 } };
    const cp = new Checkpointer(nc, BUCKET, name, policy, createMetrics(), createLogger("silent"));
    let seq = 0;
    const more = () => {
      for (let k = 0; k < 200; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    };
    more();
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    more();
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true, final: true });
    const last = await head(name);
    expect(last.nextBase).toBeUndefined();
    expect(last.deltas.length).toBe(2);
    const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
    // The next run goes on from the chain, and its first checkpoint writes the base that was due.
    const next = new Checkpointer(nc, BUCKET, name, policy, createMetrics(), createLogger("silent"));
    const r = (await next.load(cfg))!;
    for (let k = 0; k < 100; k++, seq++) step(r.engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await next.checkpoint(() => ({ seq, engine: r.engine, kpi: r.kpi }), () => Promise.resolve(), { wait: true });
    expect((await head(name)).nextBase).toBeDefined();
  });

  it("moves no head while the partition's lease is not renewed, and takes checkpoints again once it is", async () => {
    // An instance paused past its lease wakes with a checkpoint due. The new owner restored the head;
    // moved now, the owner's next checkpoint would fail its revision check and fence the owner instead.
    const name = "lease-lapsed";
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    let held = true;
    let fenced = 0;
    const policy = { everyEvents: 1e9, everyMs: 1e9, onFenced: () => void fenced++, leaseHeld: () => held };
    const cp = new Checkpointer(nc, BUCKET, name, policy, createMetrics(), createLogger("silent"));
    let seq = 0;
    const run = (n: number) => {
      for (let k = 0; k < n; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    };
    run(300);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    const before = await head(name);
    const kept = await partKeys(name);
    held = false;
    run(300);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true, final: true });
    expect(await head(name)).toEqual(before);
    expect(await partKeys(name)).toEqual(kept);
    // Not fenced: the lease round decides whether the partition is lost.
    expect(fenced).toBe(0);
    held = true;
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    expect((await head(name)).streamSeq).toBe(seq);
    const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
  });

  it("after a lost delta keeps the last good head, and the next checkpoints start a chain from a new base", async () => {
    const name = "broken";
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const cp = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9, basePolicy: { share: 100, bytes: 1e12, deltas: 1000 } }, createMetrics(), createLogger("silent"));
    let seq = 0;
    const run = (n: number) => {
      for (let k = 0; k < n; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    };
    run(500);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    run(500);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    const good = await head(name);
    expect(good.deltas.length).toBe(2);
    expect(good.base).toBeUndefined();
    // The flush a checkpoint covers fails: that delta is lost.
    run(500);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.reject(new Error("publishes failed")), { wait: true });
    expect((await head(name)).streamSeq).toBe(good.streamSeq);
    // The next one cannot append to the chain: it writes a base, and the head still names the old chain.
    run(500);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    const waiting = await head(name);
    expect(waiting.streamSeq).toBe(good.streamSeq);
    expect(waiting.nextBase).toBeDefined();
    // The one after joins the base with its delta: a new chain, the old one purged.
    run(500);
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    const healed = await head(name);
    expect(healed.base?.key).toBe(waiting.nextBase!.key);
    expect(healed.deltas.length).toBe(1);
    expect(healed.streamSeq).toBe(seq);
    const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
    expect(await partKeys(name)).toEqual(new Set([healed.base!.key, healed.deltas[0]!.key]));
  });

  it("goes on from a restored chain: the next deltas follow it", async () => {
    const name = "resume";
    const first = createEngine(cfg, { trackChanges: true });
    startTracking(first, false);
    const kpi = new KpiAccumulator();
    const a = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    let seq = 0;
    for (; seq < 1000; seq++) step(first, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await a.checkpoint(() => ({ seq, engine: first, kpi }), () => Promise.resolve(), { wait: true });
    // A restart: a new checkpointer loads the chain and appends to it.
    const b = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    const restored = (await b.load(cfg))!;
    const engine = restored.engine;
    for (; seq < 2000; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await b.checkpoint(() => ({ seq, engine, kpi: restored.kpi }), () => Promise.resolve(), { wait: true });
    const h = await head(name);
    expect(h.deltas.length).toBe(2);
    const again = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
    expect(engineToJSON(again!.engine)).toEqual(engineToJSON(engine));
    // And equals an engine that never stopped.
    const whole = createEngine(cfg);
    for (let i = 0; i < 2000; i++) step(whole, evs[i]!, rngFromKey(1, evs[i]!.id));
    expect(engineToJSON(again!.engine)).toEqual(engineToJSON(whole));
  });

  it("purges at its first checkpoint after a restart the parts of one killed before its head moved", async () => {
    const name = "orphans";
    const named = (h: ChainHead) => new Set([h.base?.key, h.nextBase?.key, ...h.deltas.map((d) => d.key)].filter((k): k is string => k !== undefined));
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const a = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    let seq = 0;
    for (; seq < 1000; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await a.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    for (; seq < 1500; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    // Killed while the publishes it covers are not stored yet: its part is written, its head never moves.
    void a.checkpoint(() => ({ seq, engine, kpi }), () => new Promise<void>(() => undefined));
    await waitFor("the killed checkpoint's part written", async () => (await partKeys(name)).size > named(await head(name)).size);
    const b = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    const restored = (await b.load(cfg))!;
    for (let i = 1000; i < 2000; i++) step(restored.engine, evs[i]!, rngFromKey(1, evs[i]!.id));
    await b.checkpoint(() => ({ seq: 2000, engine: restored.engine, kpi: restored.kpi }), () => Promise.resolve(), { wait: true });
    expect(await partKeys(name)).toEqual(named(await head(name)));
  });
});

describe("Checkpointer while the KV is away", () => {
  it("lets go of the parts it could not write, so a base and a chain follow once the server is back", { timeout: 90_000 }, async () => {
    // Its own server, killed and started again on the same port and store (as a NATS node dies in a
    // cluster): a checkpoint whose delta cannot be written must not leave its base half begun.
    const store = mkdtempSync(join(tmpdir(), "ps-ckpt-"));
    let own = await jetstreamServer({ storeDir: store });
    const port = own.port;
    const c = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    try {
      await new Kvm(c).create(BUCKET, { history: 1 });
      const name = "away";
      const engine = createEngine(cfg, { trackChanges: true });
      startTracking(engine, false);
      const kpi = new KpiAccumulator();
      const errors: string[] = [];
      const log = createLogger("silent");
      log.error = ((o: { err?: unknown }) => void errors.push(String((o.err as Error)?.message ?? o.err))) as typeof log.error;
      const cp = new Checkpointer(c, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9, basePolicy: { share: 100, bytes: 1e12, deltas: 1000 } }, createMetrics(), log);
      let seq = 0;
      const run = (n: number) => {
        for (let k = 0; k < n; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
      };
      run(500);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(errors).toEqual([]);
      await own.kill9();
      // Server away: this delta is lost; the next checkpoint begins a base too, and its delta fails first.
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(errors).toHaveLength(2);
      own = await jetstreamServer({ port, storeDir: store });
      await waitFor("the client to reconnect", async () => (await c.rtt().then(() => true, () => false)) || undefined, 20_000, 200);
      // Back: a base is written (the chain was broken), then joined by the next delta.
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(errors).toHaveLength(2);
      const kv = await new Kvm(c).open(BUCKET);
      const h = (await kv.get(`${name}.head`))!.json<ChainHead>();
      expect(h.base).toBeDefined();
      expect(h.deltas).toHaveLength(1);
      expect(h.streamSeq).toBe(seq);
      const restored = await loadCheckpoint(new CheckpointStore(c, BUCKET, name), cfg);
      expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
    } finally {
      await c.close();
      await own.stop();
      rmSync(store, { recursive: true, force: true });
    }
  });
});

// A checkpoint whose engine's small state (posteriors, ledger, promotions, as one JSON frame) is larger
// than a KV value may be (NATS max_payload, 1 MiB by default) is still written and restored: the part's
// chunks must each fit in a KV value, whatever the size of a single frame.
describe("Checkpointer with a large catalogue", () => {
  it("writes and restores a checkpoint whose ledger is larger than a KV value", async () => {
    const engine = createEngine(defaults, { trackChanges: true });
    startTracking(engine, false);
    const ts = Date.parse("2026-03-02T08:00:00Z");
    // A catalogue of 30,000 products: the ledger keeps each one's stock, price and cost.
    for (let i = 0; i < 30_000; i++) {
      const ev: ShopEvent = { type: "inventory", id: `inv-${i}`, ts, productId: `product-${String(i).padStart(6, "0")}`, category: `category-${i % 40}`, stock: 10 + (i % 90), priceCents: 1000 + i, costCents: 700 };
      step(engine, ev, rngFromKey(1, ev.id));
    }
    const small = JSON.stringify(engine.ledger.toJSON()).length;
    expect(small).toBeGreaterThan(1024 * 1024);
    const cp = new Checkpointer(nc, BUCKET, "large", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    await cp.checkpoint(() => ({ seq: 30_000, engine, kpi: new KpiAccumulator() }), () => Promise.resolve(), { wait: true });
    const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, "large"), defaults);
    expect(restored?.streamSeq).toBe(30_000);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
  });
});

// A processor whose very first checkpoint is lost (the publishes it covers not stored) must still leave
// a head that a restart can load: the next checkpoint writes a base waiting for a delta, and a restart
// right after it starts from what the head says (no checkpoint yet), not from an error.
describe("Checkpointer, first checkpoint lost", () => {
  it("a restart after the base that follows it loads (nothing to restore yet)", async () => {
    const evs = shopEvents(5, 1000);
    const engine = createEngine(defaults, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const cp = new Checkpointer(nc, BUCKET, "first", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    let seq = 0;
    for (; seq < 500; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.reject(new Error("publishes failed")), { wait: true });
    for (; seq < 1000; seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    // A restart now (kill -9 before the next checkpoint).
    const next = new Checkpointer(nc, BUCKET, "first", { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    const restored = await next.load(defaults);
    expect(restored?.streamSeq ?? 0).toBe(0);
  });
});

// A checkpoint that does not move the head (the chain broken by a lost delta) commits the old head's
// streamSeq again, and with it the stream that sequence counts in. Stamped with the stream the
// checkpointer was told of now, after EVENTS was made again, the head claimed the old stream's sequence
// counted in the new one: the next start skipped that many events of the new stream.
describe("Checkpointer after EVENTS was made again", () => {
  const remadeEvs = shopEvents(5, 2000);

  it("never writes a head whose streamSeq counts in another stream than the one it names", async () => {
    const name = "remade";
    const engine = createEngine(defaults, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const a = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    a.streamCreated = "2026-12-01T00:00:00Z"; // EVENTS as it was
    let seq = 0;
    for (; seq < 1000; seq++) step(engine, remadeEvs[seq]!, rngFromKey(1, remadeEvs[seq]!.id));
    await a.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });

    // Restart after EVENTS was deleted and made again: the processor reads the new stream from 1.
    const b = new Checkpointer(nc, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9 }, createMetrics(), createLogger("silent"));
    const restored = (await b.load(defaults))!;
    expect(restored.streamCreated).toBe("2026-12-01T00:00:00Z");
    b.streamCreated = "2026-12-07T00:00:00Z";
    let newSeq = 0;
    for (let i = 0; i < 100; i++, newSeq++) step(restored.engine, remadeEvs[seq + i]!, rngFromKey(1, remadeEvs[seq + i]!.id));
    // One checkpoint's flush fails (publishes refused for a while): its delta is lost.
    await b.checkpoint(() => ({ seq: newSeq, engine: restored.engine, kpi: restored.kpi }), () => Promise.reject(new Error("publishes failed")), { wait: true });
    // Then the processor stops: the final checkpoint cannot append (the chain is broken) and re-commits the head.
    await b.checkpoint(() => ({ seq: newSeq, engine: restored.engine, kpi: restored.kpi }), () => Promise.resolve(), { wait: true, final: true });

    const next = (await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), defaults))!;
    // The processor's rule (restoreAndPosition): same streamCreated → go on after streamSeq.
    if (next.streamCreated === "2026-12-07T00:00:00Z") expect(next.streamSeq, "a head naming the new stream must count in it").toBeLessThanOrEqual(newSeq);
    else expect(next.streamCreated).toBe("2026-12-01T00:00:00Z");
  });
});

// A head written whose acknowledgement never came back (the connection went between the server's
// store and its answer: a network cut, a reconnect): the head moved, but the store kept the revision
// before it. Its next commit then failed the revision check on its own head, as if another processor
// had written it: every later checkpoint failed (a standalone processor never checkpointed again; a
// partition's was fenced off its own partition).
describe("Checkpointer after a head write whose acknowledgement was lost", () => {
  /** A TCP proxy to the server that, once armed, lets a head write through and then cuts that connection before its answer. */
  async function proxy(target: string, headSubject: string) {
    const u = new URL(target.includes("://") ? target : `nats://${target}`);
    let armed = false;
    let cuts = 0;
    const sockets = new Set<Socket>();
    const srv = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(Number(u.port), u.hostname);
      sockets.add(client).add(upstream);
      let blackholed = false;
      client.on("data", (b: Buffer) => {
        upstream.write(b);
        if (armed && b.includes(headSubject)) {
          armed = false;
          blackholed = true;
          cuts++;
          // The server gets the write and stores it; its answer goes nowhere, and the connection drops.
          setTimeout(() => client.destroy(), 300);
        }
      });
      upstream.on("data", (b: Buffer) => {
        if (!blackholed) client.write(b);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return {
      url: `127.0.0.1:${(srv.address() as { port: number }).port}`,
      arm: () => void (armed = true),
      cuts: () => cuts,
      close: () => {
        for (const s of sockets) s.destroy();
        srv.close();
      },
    };
  }

  it("takes its own head for its own and goes on checkpointing", { timeout: 60_000 }, async () => {
    const name = "lost-ack";
    const px = await proxy(server.url, `$KV.${BUCKET}.${name}.head`);
    const c = await connect({ servers: px.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    try {
      const engine = createEngine(cfg, { trackChanges: true });
      startTracking(engine, false);
      const kpi = new KpiAccumulator();
      const errors: string[] = [];
      let fenced = 0;
      const log = createLogger("silent");
      log.error = ((o: { err?: unknown }) => void errors.push(String((o.err as Error)?.message ?? o.err))) as typeof log.error;
      const metrics = createMetrics();
      const cp = new Checkpointer(c, BUCKET, name, { everyEvents: 1e9, everyMs: 1e9, onFenced: () => void fenced++ }, metrics, log);
      let seq = 0;
      const run = (n: number) => {
        for (let k = 0; k < n; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
      };
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(errors).toEqual([]);
      // This head is stored, and its answer lost: the checkpoint fails as far as the checkpointer knows.
      px.arm();
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(px.cuts()).toBe(1);
      expect(errors).toHaveLength(1);
      await waitFor("the client to reconnect", async () => (await c.rtt().then(() => true, () => false)) || undefined, 20_000, 200);
      // The checkpoints after it: a base (the chain counts as broken), then its delta joining it.
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      run(300);
      await cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
      expect(errors.slice(1)).toEqual([]);
      expect(fenced).toBe(0);
      const h = await head(name);
      expect(h.streamSeq).toBe(seq);
      const restored = await loadCheckpoint(new CheckpointStore(nc, BUCKET, name), cfg);
      expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
      // Nothing is left of the head whose answer was lost but what the new head names.
      expect(await partKeys(name)).toEqual(new Set([h.base?.key, h.nextBase?.key, ...h.deltas.map((d) => d.key)].filter((k): k is string => k !== undefined)));
    } finally {
      await c.close();
      px.close();
    }
  });
});

// The state bucket deleted while the processor runs (`nats kv rm PS_STATE`), then made again by someone
// else (provisioning at any part's start makes a missing bucket) or not at all. Its head, the revision
// the checkpointer held, and every part went with it: nothing there is another processor's. Before, the
// first head write after the bucket was made again failed its revision check and was taken for another
// writer's ("changed by someone else (two processors with one name?)"): fenced, and no checkpoint was
// written again for the rest of the run; with no one making it again, every checkpoint failed, logged
// as "the previous one stays valid" when there was none.
describe("Checkpointer after the state bucket was deleted", () => {
  async function deletedUnder(made: "by someone else" | "by no one" | "only its head"): Promise<void> {
    const bucket = made === "by no one" ? "CKPT_GONE_A" : made === "by someone else" ? "CKPT_GONE_B" : "CKPT_GONE_C";
    const jsm = await jetstreamManager(nc);
    await new Kvm(nc).create(bucket, { history: 1 });
    const name = "gone";
    const engine = createEngine(cfg, { trackChanges: true });
    startTracking(engine, false);
    const kpi = new KpiAccumulator();
    const errors: string[] = [];
    const log = createLogger("silent");
    log.error = ((o: { err?: unknown }, msg?: string) => void errors.push(`${msg}: ${String((o.err as Error)?.message ?? o.err)}`)) as typeof log.error;
    let fenced = 0;
    const cp = new Checkpointer(nc, bucket, name, { everyEvents: 1e9, everyMs: 1e9, onFenced: () => fenced++, bucketReplicas: 1, basePolicy: { share: 100, bytes: 1e12, deltas: 1000 } }, createMetrics(), log);
    let seq = 0;
    const run = (n: number) => {
      for (let k = 0; k < n; k++, seq++) step(engine, evs[seq]!, rngFromKey(1, evs[seq]!.id));
    };
    const checkpoint = () => cp.checkpoint(() => ({ seq, engine, kpi }), () => Promise.resolve(), { wait: true });
    run(400);
    await checkpoint();
    run(400);
    await checkpoint();
    expect(errors).toEqual([]);
    if (made === "only its head") await (await new Kvm(nc).open(bucket)).delete(`${name}.head`);
    else await jsm.streams.delete(`KV_${bucket}`);
    if (made === "by someone else") await new Kvm(nc).create(bucket, { history: 1 });
    // The checkpoint that finds it out fails (its head or its parts had nowhere to go), and says why.
    run(300);
    await checkpoint();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`${bucket}.*(deleted|gone)`));
    expect(errors[0]).not.toMatch(/stays valid|someone else/);
    // The next ones write the whole state anew into the bucket (made again where no one had).
    for (let i = 0; i < 3; i++) {
      run(300);
      await checkpoint();
    }
    expect(errors).toHaveLength(1);
    expect(fenced).toBe(0);
    const restored = await loadCheckpoint(new CheckpointStore(nc, bucket, name), cfg);
    expect(restored?.streamSeq).toBe(seq);
    expect(engineToJSON(restored!.engine)).toEqual(engineToJSON(engine));
  }

  it("made again by someone else: the checkpointer is not fenced, and goes on checkpointing the whole state", { timeout: 60_000 }, () => deletedUnder("by someone else"));
  it("made again by no one: the checkpointer makes it, and goes on checkpointing the whole state", { timeout: 60_000 }, () => deletedUnder("by no one"));
  it("only its head key deleted: the same, the old chain's parts swept with the new base", { timeout: 60_000 }, async () => {
    await deletedUnder("only its head");
    const jsm = await jetstreamManager(nc);
    const h = (await (await new Kvm(nc).open("CKPT_GONE_C")).get("gone.head"))!.json<ChainHead>();
    const si = await jsm.streams.info("KV_CKPT_GONE_C", { subjects_filter: "$KV.CKPT_GONE_C.gone.>" });
    const parts = new Set(Object.keys(si.state.subjects ?? {}).filter((k) => !k.endsWith(".head")).map((k) => k.slice("$KV.CKPT_GONE_C.".length).replace(/\.c\d+$/, "")));
    expect(parts).toEqual(new Set([h.base!.key, ...h.deltas.map((d) => d.key)]));
  });
});
