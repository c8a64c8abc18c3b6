// The feature store as it was before issue #16: one CustomerState object per customer in lru-cache.
// Kept as the reference the columnar store (src/features/store.ts) is held equal to on random event
// sequences (src/features/store-equal.test.ts); not used by the product.
import { LRUCache } from "lru-cache";
import type { Channel } from "../../src/events/index.ts";
import { CustomerState, copyOffers, customerFromJSON, customerToJSON, newestOfferMs, type CustomerJSON } from "../../src/features/customer.ts";

export interface StoreState {
  nowMs: number;
  evictions: number;
  expirations: number;
  /** [customer id, state, TTL start in event time], least recently used first. */
  customers: [string, CustomerJSON, number][];
  /** Offer times of customers no longer in the cache, by customer id (their order means nothing). */
  offerMemory: [string, { offers: CustomerJSON["o"]; newestMs: number }][];
  sweepAt: number;
}

export interface FeatureStoreOptions {
  maxCustomers: number;
  idleTtlMs: number;
  /**
   * How long a customer's offer times must outlive the customer's features (the longest frequency
   * cap window plus the allowed lateness). 0 (the default) keeps nothing after eviction.
   */
  offerMemoryMs?: number;
}

/**
 * Customers by id, bounded by count (LRU) and by idle time measured in event time: lru-cache's clock
 * is replaced by ours (`perf`), and `ttlResolution: 0` keeps it from arming timers, so the core stays
 * free of wall-clock time and I/O.
 *
 * Frequency caps must hold even for a customer pushed out of the LRU: when an evicted or expired
 * customer still has offers inside `offerMemoryMs`, their times move to a side table (a few numbers
 * per customer, bounded by the offers made in that time, not by customers) and come back if the
 * customer returns.
 */
export class ObjectFeatureStore {
  private nowMs = 0;
  /** Customers dropped by the LRU bound. */
  evictions = 0;
  /** Customers dropped after idle TTL. */
  expirations = 0;
  /** Each customer in a slot of the store's own: the snapshot bookkeeping stays out of CustomerState. */
  private readonly cache: LRUCache<string, Slot>;
  private readonly offerMemory = new Map<string, Remembered>();
  private sweepAt = 1024;
  private snap: StoreSnapshot | undefined;
  private snapGen = 0;
  constructor(readonly opts: FeatureStoreOptions) {
    this.cache = new LRUCache<string, Slot>({
      max: opts.maxCustomers,
      ttl: opts.idleTtlMs,
      ttlResolution: 0,
      updateAgeOnGet: true,
      perf: { now: () => this.nowMs },
      dispose: (v, k, reason) => {
        if (reason === "evict") this.evictions++;
        else if (reason === "expire") this.expirations++;
        else return;
        this.remember(k, v);
      },
    });
  }

  private remember(customerId: string, slot: Slot): void {
    // Leaving the cache does not change the customer, but its offers may change later through the
    // side table: a snapshot under way takes the customer now.
    this.snap?.touch(slot);
    const c = slot.c;
    const keep = this.opts.offerMemoryMs ?? 0;
    const newestMs = newestOfferMs(c);
    if (keep <= 0 || newestMs === 0 || newestMs < this.nowMs - keep) return;
    this.offerMemory.set(customerId, { offers: c.offers, newestMs, snapGen: 0, snapIdx: -1 });
    if (this.offerMemory.size >= this.sweepAt) {
      // Amortised O(1): a sweep runs only after the table doubled since the last one.
      // (A snapshot under way keeps what it listed: a deleted entry does not change.)
      for (const [k, m] of this.offerMemory) if (m.newestMs < this.nowMs - keep) this.offerMemory.delete(k);
      this.sweepAt = Math.max(1024, 2 * this.offerMemory.size);
    }
  }

  /** Moves the store's clock (event time); never backwards. */
  setNow(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }
  get(customerId: string): CustomerState | undefined {
    return this.cache.get(customerId)?.c;
  }
  getOrCreate(customerId: string): CustomerState {
    // Every change to a customer (and to remembered offers) starts here: a snapshot under way takes
    // what is about to change as it was.
    const slot = this.cache.get(customerId);
    if (slot) {
      this.snap?.touch(slot);
      return slot.c;
    }
    const c = new CustomerState();
    const m = this.offerMemory.get(customerId);
    if (m) {
      this.snap?.touchMemory(m);
      c.offers = m.offers;
      this.offerMemory.delete(customerId);
    }
    this.cache.set(customerId, { c, snapGen: 0, snapIdx: -1 });
    return c;
  }
  /**
   * A cached customer about to change, without touching its place in the LRU (for changes that are
   * not the customer's own activity, e.g. a decision's outcome closing later); undefined when gone.
   */
  getForUpdate(customerId: string): CustomerState | undefined {
    const slot = this.cache.peek(customerId);
    if (slot) this.snap?.touch(slot);
    return slot?.c;
  }
  set(customerId: string, c: CustomerState): void {
    const slot = this.cache.peek(customerId);
    if (slot) this.snap?.touch(slot);
    this.cache.set(customerId, { c, snapGen: 0, snapIdx: -1 });
  }
  get size(): number {
    return this.cache.size;
  }
  /** Customers whose features are gone but whose recent offer times are kept for the caps. */
  get rememberedOffers(): number {
    return this.offerMemory.size;
  }
  /** Offer times of a customer, whether in the cache or only remembered (for caps and tests). */
  offersOf(customerId: string, channel: Channel): readonly number[] {
    const slot = this.cache.peek(customerId);
    return (slot ? slot.c.offers[channel] : this.offerMemory.get(customerId)?.offers[channel]) ?? [];
  }
  purgeStale(): void {
    this.cache.purgeStale();
  }
  *entries(): IterableIterator<[string, CustomerState]> {
    for (const [id, slot] of this.cache.entries()) yield [id, slot.c];
  }
  /** The event-time clock (for checkpoints). */
  get now(): number {
    return this.nowMs;
  }

  /** When a cached customer's idle TTL started, in event time. */
  private ttlStart(id: string): number {
    return this.nowMs - (this.opts.idleTtlMs - this.cache.getRemainingTTL(id));
  }

  /**
   * Customers from least to most recently used, each with its TTL start in event time. Not lru-cache's
   * dump(), which converts ages through Date.now(): a restored store must age exactly like one that never
   * stopped, or a replay would not reproduce the same decisions.
   */
  toJSON(): StoreState {
    const customers: StoreState["customers"] = [];
    for (const e of this.cache.rentries()) {
      const [id, slot] = e as [string, Slot];
      customers.push([id, customerToJSON(slot.c), this.ttlStart(id)]);
    }
    const offerMemory: StoreState["offerMemory"] = [...this.offerMemory]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, m]) => [k, { offers: copyOffers(m.offers), newestMs: m.newestMs }]);
    return { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, customers, offerMemory, sweepAt: this.sweepAt };
  }

  /**
   * The store as it is now, as `toJSON` would give it, serialised later a slice at a time
   * (`StoreSnapshot.step`) while the store goes on changing: the caller pauses only to list the
   * customers. One snapshot at a time; it detaches itself when done.
   */
  beginSnapshot(): StoreSnapshot {
    if (this.snap && !this.snap.done) throw new Error("a snapshot of this store is already under way");
    const gen = ++this.snapGen;
    const ids: string[] = [];
    const objs: CustomerState[] = [];
    const starts: number[] = [];
    for (const e of this.cache.rentries()) {
      const [id, slot] = e as [string, Slot];
      slot.snapGen = gen;
      slot.snapIdx = ids.length;
      ids.push(id);
      objs.push(slot.c);
      starts.push(this.ttlStart(id));
    }
    const memory: [string, Remembered][] = [];
    for (const [k, m] of this.offerMemory) {
      m.snapGen = gen;
      m.snapIdx = memory.length;
      memory.push([k, m]);
    }
    const head = { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, sweepAt: this.sweepAt };
    const snap = new StoreSnapshot(head, gen, ids, objs, starts, memory, () => {
      if (this.snap === snap) this.snap = undefined;
    });
    this.snap = snap.done ? undefined : snap;
    return snap;
  }

  static fromJSON(opts: FeatureStoreOptions, s: StoreState): ObjectFeatureStore {
    const f = new ObjectFeatureStore(opts);
    f.nowMs = s.nowMs;
    for (const [id, c, start] of s.customers) f.cache.set(id, { c: customerFromJSON(c), snapGen: 0, snapIdx: -1 }, { start });
    f.evictions = s.evictions;
    f.expirations = s.expirations;
    for (const [k, m] of s.offerMemory) f.offerMemory.set(k, { offers: copyOffers(m.offers), newestMs: m.newestMs, snapGen: 0, snapIdx: -1 });
    f.sweepAt = s.sweepAt;
    return f;
  }
}

/**
 * A FeatureStore at one moment, serialised while the store goes on (copy-on-write): customers and
 * remembered offers are written out a slice at a time, and one about to change (`touch`) is written
 * out first, as it was. The objects listed carry the snapshot's generation and their place, so the
 * check on every change is two field reads. Hand-written because the checkpoint it feeds stopped the
 * processor for the whole serialisation (0.1 s at 5,000 customers, seconds at the 200,000 cap) and no
 * library snapshots plain objects lazily.
 */
export class StoreSnapshot {
  private readonly parts: (string | undefined)[];
  private readonly memParts: (string | undefined)[];
  private next = 0;
  private memNext = 0;
  private remaining: number;

  constructor(
    private readonly head: { nowMs: number; evictions: number; expirations: number; sweepAt: number },
    private readonly gen: number,
    private readonly ids: string[],
    private readonly objs: CustomerState[],
    private readonly starts: number[],
    private readonly memory: [string, Remembered][],
    private readonly onDone: () => void,
  ) {
    this.parts = new Array<string | undefined>(ids.length);
    this.memParts = new Array<string | undefined>(memory.length);
    this.remaining = ids.length + memory.length;
  }

  get done(): boolean {
    return this.remaining === 0;
  }

  private take(i: number): void {
    if (this.parts[i] !== undefined) return;
    this.parts[i] = JSON.stringify([this.ids[i], customerToJSON(this.objs[i]!), this.starts[i]]);
    this.finished();
  }

  private takeMemory(i: number): void {
    if (this.memParts[i] !== undefined) return;
    const [k, m] = this.memory[i]!;
    this.memParts[i] = JSON.stringify([k, { offers: m.offers, newestMs: m.newestMs }]);
    this.finished();
  }

  private finished(): void {
    if (--this.remaining === 0) this.onDone();
  }

  /** Writes out this customer as it was, if this snapshot listed it and has not yet. */
  touch(slot: Slot): void {
    if (slot.snapGen === this.gen) this.take(slot.snapIdx);
  }

  /** The same for remembered offers. */
  touchMemory(m: Remembered): void {
    if (m.snapGen === this.gen) this.takeMemory(m.snapIdx);
  }

  /**
   * Serialises until `shouldYield` says stop (asked every 32 items: the caller owns the clock and
   * the budget, the core reads none); true when all is done.
   */
  step(shouldYield: () => boolean): boolean {
    let n = 0;
    while (this.remaining > 0) {
      if (this.next < this.ids.length) this.take(this.next++);
      else if (this.memNext < this.memory.length) this.takeMemory(this.memNext++);
      else break;
      if (++n % 32 === 0 && shouldYield()) break;
    }
    return this.done;
  }

  /** The store's JSON (a `StoreState`), finishing the serialisation first if needed. */
  json(): string {
    this.step(never);
    const h = this.head;
    return `{"nowMs":${h.nowMs},"evictions":${h.evictions},"expirations":${h.expirations},"customers":[${this.parts.join(",")}],"offerMemory":[${this.memParts.join(",")}],"sweepAt":${h.sweepAt}}`;
  }
}

const never = () => false;

/** Which store snapshot listed an object, and where (StoreSnapshot's copy-on-write: two field reads per change). */
interface SnapshotMark {
  snapGen: number;
  snapIdx: number;
}

/** A cached customer. */
interface Slot extends SnapshotMark {
  c: CustomerState;
}

/** Offer times of a customer no longer in the cache. */
interface Remembered extends SnapshotMark {
  offers: CustomerState["offers"];
  newestMs: number;
}
