import { LRUCache } from "lru-cache";
import { CustomerState, customerFromJSON, customerToJSON, type CustomerJSON } from "./customer.ts";

export interface StoreState {
  nowMs: number;
  evictions: number;
  expirations: number;
  /** [customer id, state, TTL start in event time], least recently used first. */
  customers: [string, CustomerJSON, number][];
}

export interface FeatureStoreOptions {
  maxCustomers: number;
  idleTtlMs: number;
}

/**
 * Customers by id, bounded by count (LRU) and by idle time measured in event time: lru-cache's clock
 * is replaced by ours (`perf`), and `ttlResolution: 0` keeps it from arming timers, so the core stays
 * free of wall-clock time and I/O.
 */
export class FeatureStore {
  private nowMs = 0;
  evictions = 0;
  expirations = 0;
  private readonly cache: LRUCache<string, CustomerState>;
  constructor(readonly opts: FeatureStoreOptions) {
    this.cache = new LRUCache<string, CustomerState>({
      max: opts.maxCustomers,
      ttl: opts.idleTtlMs,
      ttlResolution: 0,
      updateAgeOnGet: true,
      perf: { now: () => this.nowMs },
      dispose: (_v, _k, reason) => {
        if (reason === "evict") this.evictions++;
        else if (reason === "expire") this.expirations++;
      },
    });
  }
  /** Moves the store's clock (event time); never backwards. */
  setNow(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }
  get(customerId: string): CustomerState | undefined {
    return this.cache.get(customerId);
  }
  getOrCreate(customerId: string): CustomerState {
    let c = this.cache.get(customerId);
    if (!c) {
      c = new CustomerState();
      this.cache.set(customerId, c);
    }
    return c;
  }
  set(customerId: string, c: CustomerState): void {
    this.cache.set(customerId, c);
  }
  get size(): number {
    return this.cache.size;
  }
  purgeStale(): void {
    this.cache.purgeStale();
  }
  entries(): IterableIterator<[string, CustomerState]> {
    return this.cache.entries();
  }
  /** The event-time clock (for checkpoints). */
  get now(): number {
    return this.nowMs;
  }

  /**
   * Customers from least to most recently used, each with its TTL start in event time. Not lru-cache's
   * dump(), which converts ages through Date.now(): a restored store must age exactly like one that never
   * stopped, or a replay would not reproduce the same decisions.
   */
  toJSON(): StoreState {
    const customers: StoreState["customers"] = [];
    for (const e of this.cache.rentries()) {
      const [id, c] = e as [string, CustomerState];
      const remaining = this.cache.getRemainingTTL(id);
      customers.push([id, customerToJSON(c), this.nowMs - (this.opts.idleTtlMs - remaining)]);
    }
    return { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, customers };
  }

  static fromJSON(opts: FeatureStoreOptions, s: StoreState): FeatureStore {
    const f = new FeatureStore(opts);
    f.nowMs = s.nowMs;
    for (const [id, c, start] of s.customers) f.cache.set(id, customerFromJSON(c), { start });
    f.evictions = s.evictions;
    f.expirations = s.expirations;
    return f;
  }
}
