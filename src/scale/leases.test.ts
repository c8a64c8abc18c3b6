// Partition leases on a real JetStream KV: a lost lease's processor stops beside the lease rounds, so
// the instance's other leases are renewed meanwhile (a stop during a NATS problem can take tens of
// seconds: awaited in the round, it let every other lease expire too).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { waitFor } from "../../test/support/system.ts";
import { createLogger } from "../log/index.ts";
import { startNatsCluster } from "../io/nats/index.ts";
import { PS_ERR_STATE, StateError } from "../state/index.ts";
import { LeaseManager } from "./leases.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let kv: KV;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  kv = await new Kvm(nc).create("LEASES_TEST", { history: 1 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const TTL = 900;
/**
 * For the tests of what a round does while final checkpoints are written: long enough that a round
 * delayed by a busy machine (a CI run's two workers) still renews in time (heldNow wants a sixth of it
 * left), so what they show is the rounds not running, which the code before them did for whole seconds.
 */
const SLOW_TTL = 3_000;
const lease = async (p: number, bucket: KV = kv) => (await bucket.get(`lease.p${p}`))?.json<{ owner: string; expiresAtMs: number }>();

describe("LeaseManager", () => {
  it("renews its other leases while the processor of a lost one is still stopping, and takes that one again only once it stopped", async () => {
    let releaseDone: (() => void) | undefined;
    let slow = true;
    const released: number[] = [];
    const m = new LeaseManager(
      kv,
      "A",
      2,
      TTL,
      {
        acquired: async () => undefined,
        // The lost partition's processor takes long to stop (its final flush retrying); later stops are quick.
        released: (p) => {
          released.push(p);
          if (!slow) return Promise.resolve();
          slow = false;
          return new Promise<void>((r) => (releaseDone = r));
        },
      },
      createLogger("silent"),
    );
    await m.start();
    expect(m.ownedPartitions()).toEqual([0, 1]);
    // Someone else writes partition 0's lease: A's next renewal of it fails, and A stops it.
    await kv.put("lease.p0", new TextEncoder().encode(JSON.stringify({ owner: "B", expiresAtMs: Date.now() + 2_000 })));
    await waitFor("partition 0 lost", () => released.includes(0), 5_000, 20);
    // Three TTLs on, the stop still going: partition 1 is still A's, renewed.
    await new Promise((r) => setTimeout(r, 3 * TTL));
    const l1 = await lease(1);
    expect(l1?.owner).toBe("A");
    expect(l1!.expiresAtMs).toBeGreaterThan(Date.now());
    expect(m.ownedPartitions()).toEqual([1]);
    // B's lease on 0 has expired meanwhile; A takes it back only once its old processor stopped.
    expect((await lease(0))!.expiresAtMs).toBeLessThan(Date.now());
    releaseDone!();
    await waitFor("partition 0 taken again", () => m.ownedPartitions().includes(0), 5_000, 20);
    await m.stop();
    expect(released.sort()).toEqual([0, 0, 1]);
  });

  it("keeps renewing the leases it took while their partitions' processors start (each restore taking most of a TTL)", async () => {
    const bucket = await new Kvm(nc).create("LEASES_SLOW_START", { history: 1 });
    const started: number[] = [];
    const m = new LeaseManager(
      bucket,
      "A",
      4,
      TTL,
      {
        acquired: async (p) => {
          await new Promise((r) => setTimeout(r, (TTL * 2) / 3));
          started.push(p);
        },
        released: async () => undefined,
      },
      createLogger("silent"),
    );
    const start = m.start();
    // Every lease A holds stays unexpired while the four processors start and after, for 4 TTLs.
    const expired: string[] = [];
    const until = Date.now() + 4 * TTL;
    while (Date.now() < until) {
      for (const p of m.ownedPartitions()) {
        const l = (await bucket.get(`lease.p${p}`))?.json<{ owner: string; expiresAtMs: number }>();
        if (l?.owner === "A" && l.expiresAtMs < Date.now()) expired.push(`p${p} ${Date.now() - l.expiresAtMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await start;
    await waitFor("all four started", () => started.length === 4, 10_000, 20);
    await m.stop();
    expect(expired).toEqual([]);
    expect(started.sort()).toEqual([0, 1, 2, 3]);
  });

  // A partition whose start fails for good (a damaged checkpoint) is taken and given back at every round,
  // about every third of a TTL: its long error was logged at error level each time. Logged once per
  // distinct failure now; a failure's message that differs only in what moves between rounds (a
  // damaged checkpoint's names the events the stream holds) is the same failure.
  it("logs a partition's failed start once per distinct failure, not at every round that tries it again", async () => {
    const bucket = await new Kvm(nc).create("LEASES_FAILING_START", { history: 1 });
    const lines: { level: number; msg: string; partition?: number; err?: string; failedStarts?: number }[] = [];
    const log = createLogger("debug", "test:leases", { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) });
    let attempts = 0;
    const m = new LeaseManager(
      bucket,
      "A",
      1,
      TTL,
      {
        acquired: async () => {
          const n = ++attempts;
          if (n >= 7) return;
          const damage = n <= 4 ? "checkpoint part A.1 fails its checksum" : "checkpoint A.2 is missing chunk 0 of 2";
          throw new StateError(PS_ERR_STATE.Corrupt, `the checkpoint cannot be restored: ${damage} (EVENTS holds events 1 to ${100 * n})`, { cause: new StateError(PS_ERR_STATE.Corrupt, damage) });
        },
        released: async () => undefined,
      },
      log,
    );
    await m.start();
    await waitFor("started at the seventh try", () => attempts >= 7, 20_000, 20);
    // (What follows a start that succeeded runs on the next turn.)
    await new Promise((r) => setTimeout(r, 50));
    await m.stop();
    const errors = lines.filter((l) => l.level >= 50 && l.partition === 0);
    expect(errors.map((l) => l.err)).toEqual([expect.stringMatching(/fails its checksum .*to 100\)/), expect.stringMatching(/missing chunk .*to 500\)/)]);
    expect(lines.filter((l) => l.level === 20 && /failed to start again/.test(l.msg)).map((l) => l.failedStarts)).toEqual([2, 3, 4, 6]);
    expect(lines.find((l) => /started after failed starts/.test(l.msg))?.failedStarts).toBe(6);
  });

  it("keeps renewing the leases it keeps while it gives extras back to a newcomer (each final checkpoint taking three quarters of a TTL)", async () => {
    const bucket = await new Kvm(nc).create("LEASES_GIVE_BACK", { history: 1 });
    const m = new LeaseManager(
      bucket,
      "A",
      4,
      SLOW_TTL,
      { acquired: async () => undefined, released: () => new Promise<void>((r) => setTimeout(r, (SLOW_TTL * 3) / 4)) },
      createLogger("silent"),
    );
    await m.start();
    expect(m.ownedPartitions()).toEqual([0, 1, 2, 3]);
    // B joins (its heartbeat, nothing else): A's fair share is 2 now, and it gives 3 and 2 back.
    const beat = () => bucket.put("member.B", new TextEncoder().encode(JSON.stringify({ id: "B", atMs: Date.now() })));
    await beat();
    const heartbeat = setInterval(() => void beat(), 100);
    const expired: string[] = [];
    try {
      const until = Date.now() + 3 * SLOW_TTL;
      while (Date.now() < until) {
        for (const p of m.ownedPartitions()) {
          const l = (await bucket.get(`lease.p${p}`))?.json<{ owner: string; expiresAtMs: number }>();
          if (l?.owner === "A" && l.expiresAtMs < Date.now()) expired.push(`p${p} ${Date.now() - l.expiresAtMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      await waitFor("two given back", () => m.ownedPartitions().length === 2, 10_000, 20);
    } finally {
      clearInterval(heartbeat);
      await m.stop();
    }
    expect(expired).toEqual([]);
  });

  it("stopping, writes every partition's final checkpoint under a good lease (each taking half a TTL) and gives every lease back", async () => {
    const bucket = await new Kvm(nc).create("LEASES_STOP", { history: 1 });
    const heldAtEnd = new Map<number, boolean>();
    const m: LeaseManager = new LeaseManager(
      bucket,
      "A",
      4,
      SLOW_TTL,
      {
        acquired: async () => undefined,
        // The final checkpoint: its head moves only if the lease is still good by A's clock (Checkpointer's leaseHeld).
        released: async (p) => {
          await new Promise((r) => setTimeout(r, SLOW_TTL / 2));
          heldAtEnd.set(p, m.heldNow(p));
        },
      },
      createLogger("silent"),
    );
    await m.start();
    expect(m.ownedPartitions()).toEqual([0, 1, 2, 3]);
    await m.stop();
    expect([...heldAtEnd].sort((a, b) => a[0] - b[0])).toEqual([
      [0, true],
      [1, true],
      [2, true],
      [3, true],
    ]);
    for (let p = 0; p < 4; p++) expect((await bucket.get(`lease.p${p}`))?.operation, `lease.p${p}`).not.toBe("PUT");
  });

  it("gives a partition back for good when a round was renewing its lease as the release began (the round does not take it back)", async () => {
    // A round renews the leases it found owned when it began; a release that starts while that round waits
    // for its renewal's answer must not see the partition taken back into owned by the answer, its lease
    // key left behind (the delete at a revision the round moved refused) until it expires.
    const real = await new Kvm(nc).create("LEASES_RACE", { history: 1 });
    const inFlight = new Set<string>();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const bound = <T extends object>(t: T, k: string | symbol) => {
      const v = Reflect.get(t, k) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    };
    // The renewals' writes (through the bucket's js) take 300 ms; a lease's delete returns only once a
    // round is renewing the next partition's lease, so the next release begins while that write is on its way.
    const js = Reflect.get(real, "js") as object;
    const slowJs = new Proxy(js, {
      get: (t, k) =>
        k === "publish"
          ? async (subject: string, ...rest: unknown[]) => {
              if (!subject.includes("lease.p")) return (bound(t, k) as (...a: unknown[]) => Promise<unknown>)(subject, ...rest);
              inFlight.add(subject);
              try {
                await sleep(300);
                return await (bound(t, k) as (...a: unknown[]) => Promise<unknown>)(subject, ...rest);
              } finally {
                inFlight.delete(subject);
              }
            }
          : bound(t, k),
    });
    const bucket = new Proxy(real, {
      get: (t, k) => {
        if (k === "js") return slowJs;
        if (k === "delete")
          return async (key: string, opts?: unknown) => {
            const r = await real.delete(key, opts as never);
            const next = Number(/^lease\.p(\d+)$/.exec(key)?.[1] ?? NaN) + 1;
            if (next < 3) await waitFor(`a round renewing lease.p${next}`, () => [...inFlight].some((s) => s.endsWith(`lease.p${next}`)), 10_000, 5);
            return r;
          };
        return bound(t, k);
      },
    }) as KV;
    const m = new LeaseManager(bucket, "A", 3, SLOW_TTL, { acquired: async () => undefined, released: async () => undefined }, createLogger("silent"));
    await m.start();
    expect(m.ownedPartitions()).toEqual([0, 1, 2]);
    await m.stop();
    expect(m.ownedPartitions()).toEqual([]);
    for (let p = 0; p < 3; p++) expect((await real.get(`lease.p${p}`))?.operation, `lease.p${p}`).not.toBe("PUT");
  });
});

// A renewal that fails for another reason than a conflict (a request timed out: a JetStream leader
// being elected, a node going down) says nothing about who holds the lease. Here the server refuses the
// leader read renewals make (a permission taken away by a config reload, then given back), so the
// renewals of one round fail while the heartbeat goes through.
describe("LeaseManager, a renewal that did not get an answer", { timeout: 60_000 }, () => {
  it("keeps the partition while its lease is still good by its own clock, and renews it at the next round", async () => {
    const conf = (deny: boolean) =>
      `authorization { users = [ { user: "a", password: "b", permissions: { publish: { allow: [">"]${deny ? `, deny: ["$JS.API.STREAM.MSG.GET.KV_LEASES_DENY"]` : ""} }, subscribe: ">" } } ] }`;
    const own = await jetstreamServer({ extraConf: conf(false) });
    const file = join(dirname(own.storeDir), "nats.conf");
    const base = readFileSync(file, "utf8");
    const reload = (deny: boolean) => {
      writeFileSync(file, base.replace(conf(false), conf(deny)));
      process.kill(own.pid, "SIGHUP");
    };
    const c = await connect({ servers: own.url, user: "a", pass: "b" });
    const lines: string[] = [];
    const released: string[] = [];
    const ttl = 12_000;
    let m: LeaseManager | undefined;
    try {
      const bucket = await new Kvm(jetstream(c, { timeout: 1_000 })).create("LEASES_DENY", { history: 1 });
      m = new LeaseManager(bucket, "A", 1, ttl, { acquired: async () => undefined, released: async (p, lost) => void released.push(`p${p} lost=${lost}`) }, createLogger("warn", "test", { write: (l: string) => void lines.push(l) }));
      await m.start();
      expect(m.ownedPartitions()).toEqual([0]);
      const before = (await lease(0, bucket))!.expiresAtMs;
      reload(true);
      // One round (every ttl/3) and its timeout pass with the read refused.
      await waitFor("a renewal refused", () => lines.some((l) => /"msg":"partition lease (lost|not renewed)/.test(l)), ttl, 50);
      reload(false);
      await waitFor("renewed again", async () => (await lease(0, bucket))!.expiresAtMs > before + ttl / 3 + 1, 2 * ttl, 100);
      expect(released).toEqual([]);
      expect(m.ownedPartitions()).toEqual([0]);
      expect(m.heldNow(0)).toBe(true);
    } finally {
      await m?.stop();
      await c.close();
      await own.stop();
    }
  });
});

// nats-server before 2.9.21 checks kv.update's expected revision on a replicated stream only before
// proposing the write (nats-io/nats-server#4320): two instances taking one expired lease at the same
// moment were both told yes, and both processed the partition.
describe("LeaseManager on a 3-node cluster (R3 bucket)", { timeout: 120_000 }, () => {
  const RACE_TTL = 300;
  it("never lets two instances take one expired lease at the same moment", async () => {
    const cluster = await startNatsCluster(3);
    const [u1, u2] = cluster.url.split(",");
    const a = await connect({ servers: u1! });
    const b = await connect({ servers: u2! });
    try {
      const kvA = await new Kvm(a).create("LEASE_RACE", { history: 1, replicas: 3 });
      const kvB = await new Kvm(b).open("LEASE_RACE");
      const none = { acquired: async () => undefined, released: async () => undefined };
      let both = 0;
      let taken = 0;
      for (let round = 0; round < 40; round++) {
        // An instance that died: its lease on the one partition expired.
        await kvA.put("lease.p0", new TextEncoder().encode(JSON.stringify({ owner: "dead", expiresAtMs: Date.now() - 1 })));
        // Each first reads the lease, then finds it still for a TTL by its own clock: both free to take it.
        const ma = new LeaseManager(kvA, `A${round}`, 1, RACE_TTL, none, createLogger("silent"));
        const mb = new LeaseManager(kvB, `B${round}`, 1, RACE_TTL, none, createLogger("silent"));
        // (Under a loaded CI a first round can take longer than the TTL, and take the lease already: still
        // by a write that lands only if nothing was written since its read.)
        await Promise.all([ma.tick(), mb.tick()]);
        await new Promise((r) => setTimeout(r, RACE_TTL + 20));
        await Promise.all([ma.tick(), mb.tick()]);
        const owners = [ma, mb].filter((m) => m.ownedPartitions().includes(0)).length;
        if (owners === 2) both++;
        if (owners > 0) taken++;
        for (const k of [`member.A${round}`, `member.B${round}`]) await kvA.delete(k);
      }
      expect(both).toBe(0);
      // Someone took it in most rounds (a round both lose to the other's heartbeat is possible).
      expect(taken).toBeGreaterThan(20);
    } finally {
      await a.close();
      await b.close();
      await cluster.stop();
    }
  });
});

describe("LeaseManager, instances whose wall clocks disagree", { timeout: 60_000 }, () => {
  const SKEW_MS = 30_000;
  const offBy = (ms: number) => ({ wallMs: () => Date.now() + ms, monoMs: () => performance.now() });
  const none = { acquired: async () => undefined, released: async () => undefined };

  it("a clock 30 s ahead never takes a lease its holder renews, and takes it only once the holder has stopped using it", async () => {
    const bucket = await new Kvm(nc).create("LEASES_SKEW_AHEAD", { history: 1 });
    const a = new LeaseManager(bucket, "A", 1, SLOW_TTL, none, createLogger("silent"));
    await a.tick();
    expect(a.ownedPartitions()).toEqual([0]);
    // A's rounds, by hand, so that A can die without giving its lease back (a kill -9).
    let rounds: NodeJS.Timeout | undefined = setInterval(() => void a.tick().catch(() => undefined), SLOW_TTL / 3);
    const b = new LeaseManager(bucket, "B", 1, SLOW_TTL, none, createLogger("silent"), undefined, offBy(SKEW_MS));
    await b.start();
    // Before: B read A's expiry (A's clock + TTL) as 27 s past and took the lease at its first round.
    const overlaps: string[] = [];
    const watch = setInterval(() => {
      if (b.ownedPartitions().includes(0) && a.heldNow(0)) overlaps.push(`${new Date().toISOString()}`);
    }, 5);
    try {
      await new Promise((r) => setTimeout(r, 3 * SLOW_TTL));
      expect(b.ownedPartitions()).toEqual([]);
      expect(a.heldNow(0)).toBe(true);
      // A dies: B takes the lease, but not while A still counts it as its own.
      clearInterval(rounds);
      rounds = undefined;
      await waitFor("B takes the lease A no longer renews", () => b.ownedPartitions().includes(0), 4 * SLOW_TTL, 10);
      expect(a.heldNow(0)).toBe(false);
      expect(overlaps).toEqual([]);
    } finally {
      clearInterval(watch);
      if (rounds) clearInterval(rounds);
      await b.stop();
    }
  });

  it("an instance whose clock is 30 s behind is counted as alive: the other gives it its share", async () => {
    const bucket = await new Kvm(nc).create("LEASES_SKEW_SHARE", { history: 1 });
    const a = new LeaseManager(bucket, "A", 2, SLOW_TTL, none, createLogger("silent"));
    await a.start();
    expect(a.ownedPartitions()).toEqual([0, 1]);
    // Before: A read B's heartbeats as 30 s old, counted itself alone and kept both partitions.
    const b = new LeaseManager(bucket, "B", 2, SLOW_TTL, none, createLogger("silent"), undefined, offBy(-SKEW_MS));
    await b.start();
    try {
      await waitFor("each instance holds one partition", () => a.ownedPartitions().length === 1 && b.ownedPartitions().length === 1, 5 * SLOW_TTL, 20);
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it("a clock 30 s behind takes a dead instance's lease within about a TTL, not 30 s later", async () => {
    const bucket = await new Kvm(nc).create("LEASES_SKEW_BEHIND", { history: 1 });
    const a = new LeaseManager(bucket, "A", 1, SLOW_TTL, none, createLogger("silent"));
    await a.tick();
    // A dies at once (no more rounds). B's clock reads A's expiry as 33 s ahead.
    const b = new LeaseManager(bucket, "B", 1, SLOW_TTL, none, createLogger("silent"), undefined, offBy(-SKEW_MS));
    const t0 = performance.now();
    await b.start();
    try {
      await waitFor("B takes the dead instance's lease", () => b.ownedPartitions().includes(0), 3 * SLOW_TTL, 10);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(SLOW_TTL);
    } finally {
      await b.stop();
    }
  });
});
