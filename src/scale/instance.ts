// One processor instance of a partitioned deployment (issue #8): it holds leases on some partitions and
// runs a Processor (own durable consumer, engine, checkpoint) for each; shares what each partition
// learned with the others (sync events, every scale.syncEveryMs: the bound on staleness); tops up each
// partition's grants of budget and stock from the global ledger in KV; and publishes one KPI snapshot
// for its partitions, which the dashboard merges with the other instances'.
import { hostname } from "node:os";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../config/index.ts";
import { reservationCents, syncParts, syncPayload, unitsPromised } from "../engine/index.ts";
import { copyId, encodeEvent, Subjects, type ShopEvent } from "../events/index.ts";
import { PipelinedPublisher, retryTransient } from "../io/nats/index.ts";
import { mergeSnapshots, type LiveSnapshot } from "../kpi/index.ts";
import { OncePerKind, type Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { Processor, PromotionControl, setSnapshotGauges } from "../processor/index.ts";
import { InventoryKeeper } from "./inventory.ts";
import { leaseBucketKeeper } from "./lease-bucket.ts";
import { LeaseManager } from "./leases.ts";
import { GlobalLedger } from "./ledger.ts";

/** Room a sync event's envelope takes beside its share: type, id (≤ 128), time, sender, and the msg id header the stream counts. */
const SYNC_ENVELOPE_BYTES = 1024;

export class PartitionedInstance {
  readonly instanceId: string;
  readonly workers = new Map<number, Processor>();
  ledger!: GlobalLedger;
  private leases!: LeaseManager;
  private inventory!: InventoryKeeper;
  private readonly publisher: PipelinedPublisher;
  private readonly subjects: Subjects;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly enc = new TextEncoder();
  private control: PromotionControl | undefined;
  private syncSeq = 0;
  private readonly once: OncePerKind;
  /** The rounds going now (at most one of each kind: see every()), which stop() waits for. */
  private readonly rounds = new Set<Promise<void>>();
  private stopping = false;
  /** Per partition, resource and key: the total of the last allowance event stored (see granting()). */
  private readonly sentGrants = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.instanceId = cfg.scale.instanceId || `${hostname().replace(/[^A-Za-z0-9_-]/g, "-")}-${process.pid}`;
    this.publisher = new PipelinedPublisher(nc, 1000);
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.once = new OncePerKind(log);
  }

  async start(): Promise<void> {
    const kvm = new Kvm(this.nc);
    this.ledger = new GlobalLedger(await retryTransient("opening the ledger", () => kvm.open(this.cfg.kv.inventoryBucket), this.log), this.cfg.guards.stockReserve);
    const leaseKv = await retryTransient("opening the leases", () => kvm.open(this.cfg.kv.leaseBucket), this.log);
    this.inventory = new InventoryKeeper(this.nc, this.cfg, this.ledger, this.log);
    await retryTransient("starting the inventory keeper", () => this.inventory.start(), this.log);
    this.leases = new LeaseManager(
      leaseKv,
      this.instanceId,
      this.cfg.partitions,
      this.cfg.scale.leaseTtlSec * 1000,
      { acquired: (p) => this.acquired(p), released: (p, lost) => this.released(p, lost) },
      this.log,
      // For a bucket deleted while instances run: as provisioning makes it, with the partition count in it.
      leaseBucketKeeper(this.nc, this.cfg, this.log),
    );
    await this.leases.start();
    this.every(this.cfg.scale.syncEveryMs, "sync", () => this.sync());
    this.every(this.cfg.scale.allowanceEveryMs, "grant", () => this.grant());
    this.timers.push(setInterval(() => this.publishSnapshot(), this.cfg.processor.snapshotEveryMs));
    // Runtime promotion changes go into every partition's stream (promotion events): a partition
    // this instance takes on later finds them there, or in the checkpoint it restores.
    this.control = new PromotionControl(
      this.nc,
      this.publisher,
      this.subjects,
      {
        partitions: this.cfg.partitions,
        maxEventBytes: this.cfg.processor.maxEventBytes,
        // A partition's engine knows the promotions and the mode (every partition applies every change);
        // an instance holding none (a standby) answered an empty list, and no mode at all.
        list: () => {
          const w = this.workers.values().next().value;
          return w ? [...w.engine.promotions.keys()] : this.holdsNone();
        },
        mode: () => this.workers.values().next().value?.engine.safe.mode ?? this.holdsNone(),
      },
      this.metrics,
      this.log,
    );
    this.control.start();
    // Started means promo.control answers: the server has the subscription once this round trip is back.
    await this.nc.flush();
    this.log.info({ instance: this.instanceId, partitions: this.leases.ownedPartitions() }, "partitioned processor instance running");
  }

  private holdsNone(): string {
    return `instance ${this.instanceId} holds no partition, so it runs no engine to ask; ask again (the queue group takes each request to one instance, another may hold partitions)`;
  }

  /**
   * Runs `round` every `ms`, one at a time: a tick while the last round still runs (it waits for what
   * it published to be stored, which a cut network delays) is skipped.
   */
  private every(ms: number, what: string, round: () => Promise<void>): void {
    let going: Promise<void> | undefined;
    this.timers.push(
      setInterval(() => {
        if (going) return;
        const r = round()
          .catch((err: Error) => this.log.warn({ err: err.message }, `${what} round failed`))
          .finally(() => {
            going = undefined;
            this.rounds.delete(r);
          });
        this.rounds.add((going = r));
      }, ms),
    );
  }

  private async acquired(p: number): Promise<void> {
    const w = new Processor(this.nc, this.cfg, this.log, this.metrics, {
      partition: p,
      standalone: false,
      onFenced: () => {
        this.log.error({ partition: p }, "another instance owns this partition now: stopping it here");
        void this.leases.drop(p);
      },
      stillOwner: () => this.leases.holds(p),
      leaseHeld: () => this.leases.heldNow(p),
    });
    try {
      await w.start();
    } catch (err) {
      // Tried again at the next lease round, with a new processor: this one lets go of its subscriptions.
      w.abandon();
      throw err;
    }
    this.workers.set(p, w);
  }

  /**
   * Stops a partition's processor. One whose lease was lost stops without its final checkpoint: the new
   * owner restored the head before and moves it with a revision check, so a head written now (a paused
   * instance woken after the takeover) would make the owner's next checkpoint fail and fence the owner.
   */
  private async released(p: number, lost: boolean): Promise<void> {
    const w = this.workers.get(p);
    this.workers.delete(p);
    // Its next owner (this instance again, later) starts from a checkpoint: the grants it finds in its
    // stream are its own business, not this run's.
    for (const k of this.sentGrants.keys()) if (k.startsWith(`${p}\u0000`)) this.sentGrants.delete(k);
    await w?.stop({ lost });
  }

  /**
   * Each owned partition shares its own counts with every other partition (as events in their streams),
   * in parts the stream accepts. A part not stored is counted and said once per reason: the receiving
   * partitions go on with the share they had (the next round sends it again).
   */
  private async sync(): Promise<void> {
    const stored: Promise<void>[] = [];
    for (const [k, w] of this.workers) {
      for (const part of syncParts(syncPayload(w.engine), this.cfg.streams.events.maxMsgBytes - SYNC_ENVELOPE_BYTES)) {
        const id = `sync-${this.instanceId}-p${k}-${++this.syncSeq}`;
        for (let j = 0; j < this.cfg.partitions; j++) {
          if (j === k) continue;
          const ev: ShopEvent = { type: "sync", id: copyId(id, "", j), ts: Math.max(Date.now(), 946_684_800_000), from: k, ...part };
          const data = encodeEvent(ev);
          try {
            const { acked } = await this.publisher.publish(this.subjects.partitioned("sync", j), data, ev.id);
            stored.push(acked.then((r) => this.synced(r.ok ? undefined : { kind: r.error.code, message: r.error.message }, data.byteLength)));
          } catch (err) {
            this.synced({ kind: (err as { code?: string }).code ?? "error", message: (err as Error).message }, data.byteLength);
          }
        }
      }
    }
    await Promise.all(stored);
  }

  /** A sync event stored, or not: counted, and said once per kind of failure (its code: a bounded set). */
  private synced(failure: { kind: string; message: string } | undefined, bytes: number): void {
    this.metrics.syncEvents.inc({ result: failure === undefined ? "stored" : "failed" });
    if (this.stopping || failure === undefined) return;
    this.once.warn(`sync:${failure.kind}`, { err: failure.message, bytes, maxMsgBytes: this.cfg.streams.events.maxMsgBytes }, "a sync event was not stored: the other partitions go on with this partition's older share");
  }

  /**
   * Tops up grants: a partition whose budget for a promotion would not cover two more offers, or which
   * has too few units of a promoted product left for one more offer (a bundle's all), asks the global
   * ledger for more. The answer is
   * the partition's cumulative grant; when it exceeds what the engine knows (a new grant, or one whose
   * event was lost in a crash) an allowance event brings it into the partition's stream.
   */
  private async grant(): Promise<void> {
    const s = this.cfg.scale;
    for (const [k, w] of this.workers) {
      if (this.stopping) return;
      const ledger = w.engine.ledger;
      for (const p of w.engine.promotions.values()) {
        const have = ledger.budgets.get(p.id)?.budgetCents ?? 0;
        if (ledger.budgetLeft(p.id) < 2 * reservationCents(p, undefined, ledger) && !this.granting(k, "budget", p.id, have)) {
          const total = await this.ledger.grantBudget(p.id, p.budgetCents, p.changedAtMs ?? 0, k, Math.max(p.maxDiscountCents * 2, Math.ceil(p.budgetCents * s.budgetGrantShare)));
          if (total > have) await this.allowance(k, "budget", p.id, total);
        }
        const g = p.productId === undefined ? undefined : ledger.unitGrants.get(p.productId);
        if (p.productId !== undefined && ledger.products.has(p.productId) && ledger.unitsGrantedLeft(p.productId) < unitsPromised(p) && !this.granting(k, "units", p.productId, g?.granted ?? 0)) {
          const total = await this.ledger.grantUnits(p.productId, k, s.unitGrant, g?.consumed ?? 0);
          if (total > (g?.granted ?? 0)) await this.allowance(k, "units", p.productId, total);
        }
      }
    }
  }

  /**
   * Whether a grant to the partition is still on its way to its engine: an allowance event was stored
   * for a total above what the engine has. It waits in the partition's stream behind whatever the
   * partition has not handled yet (a backlog, a replay after a takeover); asking the ledger again
   * meanwhile added a chunk at every round (every allowanceEveryMs), and a partition 1.5 s behind held
   * seven chunks of a budget instead of one (src/scale/instance.test.ts).
   */
  private granting(partition: number, resource: "budget" | "units", key: string, have: number): boolean {
    const k = `${partition}\u0000${resource}\u0000${key}`;
    const sent = this.sentGrants.get(k);
    if (sent !== undefined && sent > have) return true;
    this.sentGrants.delete(k);
    return false;
  }

  private async allowance(partition: number, resource: "budget" | "units", key: string, total: number): Promise<void> {
    const id = `allow-${resource}-${key}-p${partition}-${total}`;
    const ev: ShopEvent = { type: "allowance", id, ts: Date.now(), resource, key, total };
    const { acked } = await this.publisher.publish(this.subjects.partitioned("allowance", partition), encodeEvent(ev), id);
    const stored = await acked;
    if (!stored.ok) this.log.warn({ partition, resource, key, total, err: stored.error.message }, "allowance event not stored; the next round sends it again");
    // Only while this instance runs the partition (released() forgets the partition's).
    else if (this.workers.has(partition)) this.sentGrants.set(`${partition}\u0000${resource}\u0000${key}`, total);
  }

  snapshot(): LiveSnapshot | undefined {
    const snaps = [...this.workers.values()].map((w) => ({ ...w.snapshot(), partitions: w.partition === undefined ? [] : [w.partition] }));
    if (!snaps.length) return undefined;
    const merged = mergeSnapshots(snaps);
    setSnapshotGauges(this.metrics, merged, [...this.workers.values()].reduce((n, w) => n + w.engine.features.memoryBytes, 0));
    return { ...merged, source: this.instanceId };
  }

  private publishSnapshot(): void {
    const s = this.snapshot();
    if (s && !this.nc.isClosed()) this.nc.publish(this.subjects.kpiSnapshot, this.enc.encode(JSON.stringify(s)));
  }

  health(): { ok: boolean; partitions: number[] } {
    const ok = [...this.workers.values()].every((w) => w.health().ok);
    return { ok, partitions: this.leases.ownedPartitions() };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.control?.stop();
    await this.control?.drain();
    await Promise.all(this.rounds);
    await this.leases.stop();
    await this.inventory.stop();
    await this.publisher.flush();
    this.log.info({ instance: this.instanceId }, "partitioned processor instance stopped");
  }
}
