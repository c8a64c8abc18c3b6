import { LRUCache } from "lru-cache";
import { CustomerState } from "./customer.ts";

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
}
