// Partition ownership by leases in KV (issue #8). Each instance heartbeats a member key and holds a
// lease per partition it processes, renewed with a check that nothing was written in between; a lease
// that is not renewed within its TTL, by the taker's own monotonic clock, may be taken over by another
// instance (with the same check, so only one wins: src/scale/strict-kv.ts). An
// instance holding more than its fair share (partitions ÷ live instances, rounded up) releases the
// extras so a newcomer can take them; a released partition is checkpointed first.
import type { KV } from "@nats-io/kv";
import type { Logger } from "../log/index.ts";
import { isNotFound } from "../io/nats/index.ts";
import type { LeaseBucketKeeper } from "./lease-bucket.ts";
import { compareAndSet, readFromLeader, strictStore, writeIfUnchanged } from "./strict-kv.ts";

interface Lease {
  owner: string;
  /** On the holder's wall clock: for people reading the bucket. Takeovers go by the revision standing still (LeaseManager.seen). */
  expiresAtMs: number;
}
interface Member {
  id: string;
  atMs: number;
}

export interface LeaseCallbacks {
  /** A partition was acquired: start processing it. */
  acquired(partition: number): Promise<void>;
  /**
   * Stop processing a partition: before releasing it (checkpointed first), or, `lost`, because the lease
   * names another instance now (nothing of it written any more: see PartitionedInstance.released).
   */
  released(partition: number, lost: boolean): Promise<void>;
}

/** The clocks a LeaseManager reads (LeaseManager.seen says which decides what). */
export interface LeaseClock {
  wallMs(): number;
  monoMs(): number;
}
const SYSTEM_CLOCK: LeaseClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

const enc = new TextEncoder();
/** Reads and writes a renewal tries before it gives the lease up as lost (each loses only to a write in between). */
const RENEW_ATTEMPTS = 10;
const json = (v: unknown) => enc.encode(JSON.stringify(v));

/**
 * What tells one failed start from another: the code (or class) and the underlying failure. Not the
 * whole message: a damaged checkpoint's names the events the stream holds, which grow from one round to
 * the next while the damage stays the same.
 */
function failureKey(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return `${typeof code === "string" ? code : err.name}: ${err.cause instanceof Error ? err.cause.message : err.message}`;
}

export class LeaseManager {
  /** Partition → the lease key's revision we hold. */
  private readonly owned = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;
  /**
   * Partitions whose lease was lost, while their processor stops. Not awaited in the round: a stop
   * during a NATS problem can take its flush's retries (tens of seconds), and the other leases must be
   * renewed meanwhile or they expire too. Not taken again until stopped.
   */
  private readonly stoppingLost = new Map<number, Promise<void>>();
  /**
   * Partitions taken, while their processor starts (restoring a large state, reading the ids already
   * stored: seconds). Not awaited in the round either: awaited there, four restores of most of a TTL
   * each left the leases taken before them, and the one just taken, expired for a TTL and more, free for
   * another instance to take under a processor still starting. Its processor is stopped only once started.
   */
  private readonly starting = new Map<number, Promise<void>>();
  /**
   * Partitions being given back → the lease key's revision: still held (the key names us, renewed by the
   * rounds) while their final checkpoint is written; undefined once the key was found naming another.
   */
  private readonly releasing = new Map<number, number | undefined>();
  /**
   * Extras being given back to a newcomer, beside the round as the lost ones are stopped: awaited in
   * the round, each final checkpoint (and the start of a partition still starting) held up the renewal
   * of the leases kept, which expired under their running processors.
   */
  private readonly givingBack = new Map<number, Promise<void>>();
  /** Partitions whose last start failed: what it failed with (failureKey) and how many starts failed in a row. */
  private readonly startFailures = new Map<number, { key: string; times: number }>();
  /** When each lease this instance wrote runs out, by its own monotonic clock (clock.monoMs). */
  private readonly validUntil = new Map<number, number>();
  /**
   * Other instances' leases (and heartbeats: liveMembers) as this instance has read them: the key's revision, and since when (its
   * monotonic clock) it has read that same revision. A lease is taken over once its revision has stood
   * still for a TTL by this clock, not by the expiry its holder wrote, which is on the holder's wall
   * clock: an instance whose wall clock ran ahead of the holder's by more than a sixth of the TTL took
   * a lease the holder was still renewing, and both handled the partition (its acknowledgements and
   * checkpoints) until the holder's next renewal found the key taken (src/scale/leases.test.ts, a
   * clock 30 s ahead). The holder stops within five sixths of a TTL of the start of its last renewal,
   * by its own monotonic clock (heldNow); this instance reads that renewal only after it was stored and
   * waits a whole TTL from there, so the two never overlap whatever the wall clocks say (rates of
   * monotonic clocks differ by parts per million).
   */
  private readonly seen = new Map<string, { revision: number; sinceMs: number }>();
  /** A renewal of this round found its lease's key gone (renew): the bucket may have been emptied or made again. */
  private leaseFoundGone = false;
  /** The partition count being recorded again (see tick), if it is. */
  private recordingCount: Promise<void> | undefined;

  constructor(
    private kv: KV,
    readonly instanceId: string,
    private readonly partitions: number,
    private readonly ttlMs: number,
    private readonly cb: LeaseCallbacks,
    private readonly log: Logger,
    /**
     * Makes the bucket again, as provisioning made it (see recover), and records the partition count in
     * a bucket emptied under the rounds (tick); without it a bucket gone stays gone.
     */
    private readonly bucket?: LeaseBucketKeeper,
    /** The wall clock (written into leases and heartbeats, for people and the fair share) and a monotonic one (what ownership is judged by); tests set one off. */
    private readonly clock: LeaseClock = SYSTEM_CLOCK,
  ) {}

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    await this.tick().catch(async (err: Error) => {
      this.log.warn({ err: err.message }, "first lease round failed; retrying");
      await this.recover();
    });
    this.timer = setInterval(() => {
      // A round that fails (a NATS node is down, a request timed out) is retried at the next tick;
      // leases not renewed in time are found lost then.
      this.busy ??= this.tick()
        .catch(async (err: Error) => {
          this.log.warn({ err: err.message }, "lease round failed");
          await this.recover();
        })
        .finally(() => (this.busy = undefined));
    }, Math.max(200, Math.floor(this.ttlMs / 3)));
  }

  /**
   * After a failed round: when the bucket is gone (`nats kv rm` by an operator; every write is then
   * refused as "jetstream is not enabled", the 503 of a subject no stream captures), it is made again.
   * Without it no lease could be renewed or taken any more: each instance went on with the partitions it
   * had, and those of an instance that died afterwards were left unowned for good. The leases this
   * instance holds are written again by its next renewal (renew: a lease found gone is taken back).
   */
  private async recover(): Promise<void> {
    if (!this.bucket || this.stopped) return;
    try {
      await this.kv.status();
      return;
    } catch (err) {
      if (!isNotFound(err)) return;
    }
    try {
      this.kv = await this.bucket.remake();
      // Revisions start over in a new bucket: one read before could match a new key's by chance.
      this.seen.clear();
      this.log.warn({ partitions: this.ownedPartitions() }, "the lease bucket was gone: made it again");
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "making the lease bucket again failed; the next round tries again");
    }
  }

  /**
   * Instances alive, for the fair share: this one, and each whose heartbeat's revision has moved within
   * a TTL by this instance's monotonic clock (as leases: a heartbeat's time is on its writer's wall
   * clock, and an instance 30 s ahead counted the others as dead and never gave a partition back). A
   * heartbeat first read now counts as alive until it has stood still for a TTL.
   */
  private async liveMembers(nowMono: number): Promise<number> {
    let n = 0;
    const listed = new Set<string>();
    for await (const k of await this.kv.keys("member.*")) {
      listed.add(k);
      const e = await this.kv.get(k);
      if (e?.operation !== "PUT") continue;
      if (k === `member.${this.instanceId}` || this.stillFor(k, e.revision, nowMono) < this.ttlMs) n++;
    }
    for (const k of this.seen.keys()) if (k.startsWith("member.") && !listed.has(k)) this.seen.delete(k);
    return Math.max(1, n);
  }

  /** One round: heartbeat, renew, give back extras, take free or expired partitions up to a fair share. */
  async tick(): Promise<void> {
    const now = this.clock.wallMs();
    const nowMono = this.clock.monoMs();
    // Stopping, a round only renews the leases not given back yet (their final checkpoints need them).
    if (!this.stopped) await this.kv.put(`member.${this.instanceId}`, json({ id: this.instanceId, atMs: now } satisfies Member));
    for (const [p] of [...this.owned]) {
      try {
        const rev = await this.renew(p, now);
        // Given back while the renewal was on its way (release() moved it from owned to releasing): the
        // revision is the release's to delete at. Set back into owned, the partition was held again
        // after its release, and its lease key was left behind (the delete refused at the old revision).
        if (this.owned.has(p)) this.owned.set(p, rev);
        else if (this.releasing.has(p)) this.releasing.set(p, rev);
        else continue;
        this.validUntil.set(p, nowMono + this.ttlMs);
      } catch (err) {
        // (Given back meanwhile: the rounds below renew it as released, or its release ended.)
        if (!this.owned.has(p)) continue;
        // A request that failed (timed out, JetStream electing a leader, refused) says nothing about who holds the
        // lease: the partition goes on while its lease is good by this instance's clock (heldNow, which
        // its checkpoints and acknowledgements ask too), and the next round renews it. Stopped as lost,
        // one refused read restarted the partition (restore and replay) though the lease was ours.
        if (!(err instanceof LeaseNotRenewedError) && this.heldNow(p)) {
          this.log.warn({ partition: p, err: (err as Error).message }, "partition lease not renewed this round (the request failed); still held by this instance's clock, the next round renews it");
          continue;
        }
        // Someone else holds it now (we were too slow to renew), or it may: stop at once, beside the round.
        this.log.warn({ partition: p, err: (err as Error).message }, "partition lease lost");
        this.owned.delete(p);
        const stopping = this.stopProcessor(p, true)
          .catch((e: Error) => this.log.error({ partition: p, err: e.message }, "stopping a partition whose lease was lost failed"))
          .finally(() => this.stoppingLost.delete(p));
        this.stoppingLost.set(p, stopping);
      }
    }
    for (const [p] of [...this.releasing]) {
      try {
        const rev = await this.renew(p, now);
        if (this.releasing.has(p)) {
          this.releasing.set(p, rev);
          this.validUntil.set(p, nowMono + this.ttlMs);
        }
      } catch (err) {
        // A renewal that did not land says nothing (the lease runs out by itself); one naming another
        // instance ends the final checkpoint's claim at once.
        this.log.warn({ partition: p, err: (err as Error).message }, "lease of a partition being given back not renewed");
        if (err instanceof LeaseNotRenewedError && err.taken && this.releasing.has(p)) {
          this.releasing.set(p, undefined);
          this.validUntil.delete(p);
        }
      }
    }
    if (this.leaseFoundGone) {
      this.leaseFoundGone = false;
      // Our leases gone from the bucket: it was deleted and made again by another part's provisioning
      // (a server or simulator starting meanwhile), which makes it without the partition count, so no
      // round failed and recover() never ran; or a key was deleted by hand (then the count is there).
      // Beside the round, one at a time: the rounds' pace keeps the leases, and a request to a cluster
      // electing a leader can take seconds (recordCount logs its own failure, never throws).
      if (this.bucket && !this.recordingCount) this.recordingCount = this.bucket.recordCount().finally(() => (this.recordingCount = undefined));
    }
    if (this.stopped) return;
    const fair = Math.ceil(this.partitions / (await this.liveMembers(nowMono)));
    while (this.owned.size > fair) {
      const p = Math.max(...this.owned.keys());
      // release() takes p out of owned before its first await.
      const giving = this.release(p)
        .catch((e: Error) => this.log.warn({ partition: p, err: e.message }, "giving the partition back failed"))
        .finally(() => this.givingBack.delete(p));
      this.givingBack.set(p, giving);
    }
    // Every round reads the other instances' leases (any replica will do: a read that lags only starts
    // the wait later), so that a lease stops moving is known from when it stopped, not from when this
    // instance came to want another partition (a takeover would wait a TTL more).
    const others = [...Array(this.partitions).keys()].filter((p) => !this.ours(p) && !this.stoppingLost.has(p));
    await Promise.all(others.map((p) => this.kv.get(this.key(p)).then((e) => e && this.stillFor(this.key(p), e.revision, nowMono), () => undefined)));
    for (let p = 0; p < this.partitions && this.owned.size < fair && !this.stopped; p++) {
      if (this.owned.has(p) || this.stoppingLost.has(p) || this.releasing.has(p)) continue;
      const r = await readFromLeader<Lease>(this.kv, this.key(p));
      const lease = r.cur;
      if (r.stale) continue;
      // Free: no key, a key of this instance's (a restart under the same INSTANCE_ID), or one no renewal has moved for a TTL.
      if (lease && lease.owner !== this.instanceId && this.stillFor(this.key(p), r.revision, nowMono) < this.ttlMs) continue;
      try {
        const value = json({ owner: this.instanceId, expiresAtMs: now + this.ttlMs } satisfies Lease);
        // Only if nothing was written in the bucket since the read (strict-kv.ts): on nats-server 2.9 with
        // R3, two instances taking one expired lease with kv.update's revision check were both told yes.
        const rev = await writeIfUnchanged(this.kv, this.key(p), value, r.lastSeq, r.revision);
        this.owned.set(p, rev);
        this.seen.delete(this.key(p));
        this.validUntil.set(p, nowMono + this.ttlMs);
        this.log.info({ partition: p, previousOwner: lease?.owner ?? null }, "partition lease acquired");
        this.starting.set(p, this.startProcessor(p));
      } catch {
        // Another instance won this one.
      }
    }
  }

  private startProcessor(p: number): Promise<void> {
    return this.cb.acquired(p).then(
      () => {
        this.starting.delete(p);
        const failed = this.startFailures.get(p);
        if (failed) this.log.info({ partition: p, failedStarts: failed.times }, "partition started after failed starts");
        this.startFailures.delete(p);
      },
      async (err: Error) => {
        this.starting.delete(p);
        // A start that fails for good (a damaged checkpoint) fails again at every round, about every
        // third of a TTL, with the same long error: logged once per partition and distinct failure, the
        // repeats at debug, so the log does not fill with it and a new failure still stands out.
        const key = failureKey(err);
        const failed = this.startFailures.get(p) ?? { key: "", times: 0 };
        failed.times++;
        if (failed.key === key) this.log.debug({ partition: p, failedStarts: failed.times }, "the partition failed to start again, as logged before; giving it back");
        else {
          failed.key = key;
          this.log.error({ partition: p, err: err.message, failedStarts: failed.times }, "could not start the partition; giving it back (the lease rounds try it again, and log only a different failure)");
        }
        this.startFailures.set(p, failed);
        if (this.owned.has(p)) await this.release(p).catch((e: Error) => this.log.warn({ partition: p, err: e.message }, "giving the partition back failed"));
      },
    );
  }

  /** Stops a partition's processor, once its start is over. */
  private async stopProcessor(p: number, lost: boolean): Promise<void> {
    await this.starting.get(p);
    await this.cb.released(p, lost);
  }

  /** Held, or being given back (its final checkpoint still to write). */
  private ours(p: number): boolean {
    return this.owned.has(p) || this.releasing.has(p);
  }

  /**
   * Whether this instance's lease on the partition is still good by its own clock: held, and renewed
   * recently enough that no other instance can have found it expired (a sixth of the TTL to spare).
   * Read without a request, so a checkpoint can ask it before every head write: an instance paused past
   * its lease wakes with the answer no, before its lease round has run. (Asking the bucket instead
   * stalled the loop for seconds while a NATS node was cut off.)
   */
  heldNow(p: number): boolean {
    return this.ours(p) && this.clock.monoMs() < (this.validUntil.get(p) ?? 0) - this.ttlMs / 6;
  }

  /** For how long (monotonic ms) this instance has read the same revision of another's key; 0 when it just changed. */
  private stillFor(key: string, revision: number, nowMono: number): number {
    const s = this.seen.get(key);
    if (s?.revision === revision) return nowMono - s.sinceMs;
    this.seen.set(key, { revision, sinceMs: nowMono });
    return 0;
  }

  /** Whether the lease key still names this instance (read fresh from the bucket's leader; a failed read throws). */
  async holds(p: number): Promise<boolean> {
    if (!this.ours(p)) return false;
    return (await readFromLeader<Lease>(this.kv, this.key(p))).cur?.owner === this.instanceId;
  }

  /**
   * Renews a lease this instance holds; its new revision. A lease found gone (its bucket made again, its
   * key deleted by hand) is written again: no other instance can hold the partition without the key, and
   * the write lands only if no one wrote in between. Throws when the lease names another instance now, or after RENEW_ATTEMPTS writes in a row lost to other writes in the bucket (the
   * members' heartbeats, other leases): written only if nothing was stored since the read, as a takeover
   * is, so a renewal and a takeover in flight together never both land.
   */
  private async renew(p: number, now: number): Promise<number> {
    const r = await compareAndSet<Lease>(
      strictStore(this.kv),
      this.key(p),
      (cur) => {
        if (cur === undefined) this.leaseFoundGone = true;
        return cur === undefined || cur.owner === this.instanceId ? { owner: this.instanceId, expiresAtMs: now + this.ttlMs } : undefined;
      },
      RENEW_ATTEMPTS,
    );
    if (r.kind === "written") return r.revision;
    if (r.kind === "left") throw new LeaseNotRenewedError(`lease ${this.key(p)} names ${r.value?.owner} now`, true);
    throw new LeaseNotRenewedError(`lease ${this.key(p)} not renewed: ${RENEW_ATTEMPTS} writes in a row lost to other writes in the bucket`, false);
  }

  /** Stops a partition whose lease is no longer ours in fact (fenced), without touching the lease key. */
  async drop(p: number): Promise<void> {
    if (!this.owned.delete(p)) return;
    await this.stopProcessor(p, true);
  }

  private key(p: number): string {
    return `lease.p${p}`;
  }

  /**
   * Stops the partition's processor (its final checkpoint), the rounds renewing its lease meanwhile,
   * then deletes the lease key at the revision last written, so another instance may take it at once.
   * Never awaited inside a round (it waits for the round in flight).
   */
  private async release(p: number): Promise<void> {
    if (!this.owned.has(p)) return;
    this.releasing.set(p, this.owned.get(p));
    this.owned.delete(p);
    let rev: number | undefined;
    try {
      await this.stopProcessor(p, false);
    } finally {
      // A renewal in flight would move the revision under the delete: let the round finish first.
      while (this.busy) await this.busy;
      rev = this.releasing.get(p);
      this.releasing.delete(p);
    }
    if (rev !== undefined) await this.kv.delete(this.key(p), { previousSeq: rev }).catch(() => undefined);
    this.log.info({ partition: p }, "partition lease released");
  }

  /**
   * Gives every partition back, one final checkpoint at a time. The rounds go on meanwhile, renewing
   * the leases not given back yet: stopped first, the leases of the later partitions ran out while the
   * earlier ones were written (5 s of a 10 s TTL at most), and their final checkpoints were refused.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.busy) await this.busy;
    await Promise.all(this.starting.values());
    await Promise.all(this.givingBack.values());
    await Promise.all(this.stoppingLost.values());
    for (const p of [...this.owned.keys()]) await this.release(p);
    await Promise.all(this.stoppingLost.values());
    if (this.timer) clearInterval(this.timer);
    while (this.busy) await this.busy;
    await this.recordingCount;
    await this.kv.delete(`member.${this.instanceId}`).catch(() => undefined);
  }
}

/** A renewal that got its answer: the lease names another instance (`taken`), or every write lost to others. */
class LeaseNotRenewedError extends Error {
  override name = "LeaseNotRenewedError";
  constructor(
    message: string,
    readonly taken: boolean,
  ) {
    super(message);
  }
}
