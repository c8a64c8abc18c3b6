import { LRUCache } from "lru-cache";
import type { Channel } from "../events/index.ts";
import { CustomerState, copyOffers, customerFromJSON, customerToJSON, newestOfferMs, type CustomerJSON } from "./customer.ts";

export interface StoreState {
  nowMs: number;
  evictions: number;
  expirations: number;
  /** [customer id, state, TTL start in event time], least recently used first. */
  customers: [string, CustomerJSON, number][];
  /** Offer times of customers no longer in the cache, in insertion order. */
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
export class FeatureStore {
  private nowMs = 0;
  /** Customers dropped by the LRU bound. */
  evictions = 0;
  /** Customers dropped after idle TTL. */
  expirations = 0;
  private readonly cache: LRUCache<string, CustomerState>;
  private readonly offerMemory = new Map<string, { offers: CustomerState["offers"]; newestMs: number }>();
  private sweepAt = 1024;
  constructor(readonly opts: FeatureStoreOptions) {
    this.cache = new LRUCache<string, CustomerState>({
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

  private remember(customerId: string, c: CustomerState): void {
    const keep = this.opts.offerMemoryMs ?? 0;
    const newestMs = newestOfferMs(c);
    if (keep <= 0 || newestMs === 0 || newestMs < this.nowMs - keep) return;
    this.offerMemory.set(customerId, { offers: c.offers, newestMs });
    if (this.offerMemory.size >= this.sweepAt) {
      // Amortised O(1): a sweep runs only after the table doubled since the last one.
      for (const [k, m] of this.offerMemory) if (m.newestMs < this.nowMs - keep) this.offerMemory.delete(k);
      this.sweepAt = Math.max(1024, 2 * this.offerMemory.size);
    }
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
      const m = this.offerMemory.get(customerId);
      if (m) {
        c.offers = m.offers;
        this.offerMemory.delete(customerId);
      }
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
  /** Customers whose features are gone but whose recent offer times are kept for the caps. */
  get rememberedOffers(): number {
    return this.offerMemory.size;
  }
  /** Offer times of a customer, whether in the cache or only remembered (for caps and tests). */
  offersOf(customerId: string, channel: Channel): readonly number[] {
    const c = this.cache.peek(customerId);
    return (c ? c.offers[channel] : this.offerMemory.get(customerId)?.offers[channel]) ?? [];
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
    const offerMemory: StoreState["offerMemory"] = [...this.offerMemory].map(([k, m]) => [k, { offers: copyOffers(m.offers), newestMs: m.newestMs }]);
    return { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, customers, offerMemory, sweepAt: this.sweepAt };
  }

  static fromJSON(opts: FeatureStoreOptions, s: StoreState): FeatureStore {
    const f = new FeatureStore(opts);
    f.nowMs = s.nowMs;
    for (const [id, c, start] of s.customers) f.cache.set(id, customerFromJSON(c), { start });
    f.evictions = s.evictions;
    f.expirations = s.expirations;
    for (const [k, m] of s.offerMemory) f.offerMemory.set(k, { offers: copyOffers(m.offers), newestMs: m.newestMs });
    f.sweepAt = s.sweepAt;
    return f;
  }
}
