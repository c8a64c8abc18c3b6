// Customers by id, millions of them in one process (issue #16). Each customer is interned to a dense
// index; what the store needs per customer (recency links, idle-TTL start, recency stamp, id hash,
// change mark, where its record is) lives in typed-array columns that grow by chunks of 65,536
// customers, and the customer's state lives as a compact byte record (codec.ts) in a block arena
// (arena.ts). No per-customer object exists outside a hot set of decoded customers (features.hotCustomers), so the
// garbage collector sees a few thousand buffers instead of millions of objects.
//
// Semantics are those of the object store it replaces (test/support/object-store.ts, lru-cache based),
// held equal on random event sequences by store-equal.test.ts: LRU order, bounded by count
// (`maxCustomers`) and now also by memory (`maxMemoryBytes`), idle TTL in event time (a customer idle
// longer than the TTL is dropped when touched or swept), recent offer times kept past eviction.
//
// The recency index is hand-made rather than lru-cache: lru-cache keys a Map by the id string and keeps
// key and value arrays beside its next/prev and TTL arrays. Measured with 1M customers (string ids,
// number values, TTL on): 97.5 bytes per customer before any feature, and a full collection took 35 ms
// (10 ms without it), growing with the entries; here the index and recency cost ~38 bytes per customer
// (links 8, TTL start 8, hash 4, table ~8, the id's bytes in its record ~10), outside the heap.
//
// A customer joins the hot set at its second touch within `hotCustomers` touches (`admits`); until
// then it is decoded for its event only and written back at the next `release()`.
//
// Objects handed out (getOrCreate, getForUpdate, get) stay valid until the next `release()`, which the
// engine calls before each event: the hot set is trimmed (least recently used first, second chance)
// only there, so a caller holding a customer while the store takes others never sees it recycled.
import type { Channel } from "../events/index.ts";
import { BLOCK_SIZES, BlockArena, blockClass } from "./arena.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { decodeCustomer, encodeCustomer } from "./codec.ts";
import { CustomerState, copyOffers, customerFromJSON, customerToJSON, newestOfferMs, type CustomerJSON } from "./customer.ts";
import { StoreBase, StoreDelta, writeRecordFrame, type PartHeader, type TakenRecord } from "./parts.ts";
import { StringTable } from "./strings.ts";

export interface StoreState {
  nowMs: number;
  evictions: number;
  expirations: number;
  /** [customer id, state, TTL start in event time], least recently used first. */
  customers: [string, CustomerJSON, number][];
  /** Offer times of customers no longer in the cache, by customer id (their order means nothing). */
  offerMemory: [string, { offers: CustomerJSON["o"]; newestMs: number }][];
  sweepAt: number;
  /**
   * What the memory bound counts beyond the customers' states (`exportJSON`; absent from `toJSON` and
   * from checkpoints written before it was kept). With it, `customers` holds every customer, idle ones
   * not yet swept included, and a restored store evicts what the one exported would have.
   */
  bound?: StoreBound;
}

/** The store's memory-bound state in a JSON checkpoint (see `FeatureStore.exportJSON`). */
export interface StoreBound {
  stampCounter: number;
  /** Recency stamps of `customers`, in their order. */
  stamps: number[];
  /**
   * The hot set in the order it is trimmed: [index into `customers`, used since the last trim (1/0),
   * record bytes counted for it].
   */
  hot: [number, number, number][];
  /** Slots of the id index. */
  tableSize: number;
  /** The string table, in its order (records refer to strings by their number). */
  strings: string[];
}

export interface FeatureStoreOptions {
  /** Customers kept at most (LRU); none when absent. */
  maxCustomers?: number | undefined;
  /** Memory the store may use (columns, records, index, hot set), bytes; past it the least recently used go. */
  maxMemoryBytes?: number | undefined;
  idleTtlMs: number;
  /**
   * How long a customer's offer times must outlive the customer's features (the longest frequency
   * cap window plus the allowed lateness). 0 (the default) keeps nothing after eviction.
   */
  offerMemoryMs?: number;
  /**
   * The same per channel (its cap window plus the allowed lateness), when shorter than
   * `offerMemoryMs`: an evicted customer's offers on a channel are kept only that long. A web offer
   * (1 h cap) outside its channel's reach was kept the 24 h of the longest (e-mail) cap, at ~240 bytes
   * of heap per customer outside the memory bound: a store at its bound, evicting customers seen with
   * an offer some hours ago, held them all.
   */
  offerMemoryMsByChannel?: Partial<Record<Channel, number>> | undefined;
  /** Decoded customers kept between events (default 6,144; the config sets it: features.hotCustomers). */
  hotCustomers?: number;
  /** Keep what changed since the last `captureDelta` (incremental checkpoints). */
  trackChanges?: boolean;
}

/** Offer times of a customer no longer in the cache. */
interface Remembered {
  offers: CustomerState["offers"];
  newestMs: number;
}

/** A decoded customer: authoritative while hot (its record is rewritten when it leaves, if changed). */
interface Hot {
  idx: number;
  c: CustomerState;
  dirty: boolean;
  /** Used since the hot set was last trimmed (second chance). */
  ref: boolean;
  /**
   * Decoded for this event only (not admitted to the hot set): written back and let go at the next
   * `release()`, its object reused for the next such customer.
   */
  transient: boolean;
  /**
   * Bytes the memory bound counts for this customer's record beyond what the record takes now: the
   * record a restore replaced was that much larger (negative: smaller). 0 unless a restore decoded it.
   */
  skew: number;
}

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
/** Column bytes per customer: addr 4, class 1, start 8, stamp 8, prev 4, next 4, hash 4, mark 4. */
export const COLUMN_BYTES = 37;
/** What a decoded customer costs on the heap, roughly (its windows alone are 880 bytes). */
const HOT_BYTES = 3_000;
/** Class value for a record too large for a block, kept in `large`. */
const LARGE = 255;

const EMPTY_RECORD = (() => {
  const w = new ByteWriter(64);
  encodeCustomer(new CustomerState(), w, new StringTable());
  return w.view().slice();
})();

/** Where a record's id starts: after its length (a varint of 1–3 bytes). */
function recordStart(rec: Uint8Array): number {
  return rec[0]! < 0x80 ? 1 : rec[1]! < 0x80 ? 2 : 3;
}

/** A record's id header (after its length): the id's length × 2, plus 1 when its code units take two bytes. */
function idHeader(rec: Uint8Array): number {
  let u = 0;
  let mul = 1;
  for (let p = recordStart(rec); ; p++) {
    const b = rec[p]!;
    u += (b & 0x7f) * mul;
    if (b < 0x80) return u;
    mul *= 0x80;
  }
}

/** Where the id's bytes start in a record whose id header is u. */
function idStart(rec: Uint8Array, u: number): number {
  return recordStart(rec) + (u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5);
}

/** hashId of the id a record starts with, read from its bytes. */
function hashRecordId(rec: Uint8Array): number {
  const u = idHeader(rec);
  let p = idStart(rec, u);
  const n = Math.floor(u / 2);
  let h = 0x811c9dc5;
  if (u % 2) for (let k = 0; k < n; k++, p += 2) h = Math.imul(h ^ (rec[p]! | (rec[p + 1]! << 8)), 0x01000193);
  else for (let k = 0; k < n; k++) h = Math.imul(h ^ rec[p++]!, 0x01000193);
  return mix(h);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of the code units, then murmur3's finaliser so linear probing sees spread bits. */
export function hashId(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}

export class FeatureStore {
  private nowMs = 0;
  /** Customers dropped by the LRU bound (count or memory). */
  evictions = 0;
  /** Customers dropped after idle TTL. */
  expirations = 0;
  private readonly ttl: number;
  private readonly hotMax: number;

  // ---- columns, chunked ----
  private readonly addr: Uint32Array[] = [];
  private readonly cls: Uint8Array[] = [];
  private readonly start: Float64Array[] = [];
  private readonly stamp: Float64Array[] = [];
  private readonly prev: Int32Array[] = [];
  private readonly next: Int32Array[] = [];
  private readonly hash: Uint32Array[] = [];
  private readonly mark: Uint32Array[] = [];
  /** Indices handed out so far (the columns' high-water mark); freed ones are reused first. */
  private high = 0;
  private freeIdx = new Int32Array(1024);
  private freeCount = 0;
  private count = 0;
  private head = -1;
  private tail = -1;
  /** The last recency stamp given (every move to the tail takes the next one). */
  private stampCounter = 0;

  // ---- id index: open addressing, linear probing, slot = index + 1 ----
  private table = new Int32Array(1024);
  private tableMask = 1023;

  // ---- records ----
  private readonly arena = new BlockArena();
  private readonly large = new Map<number, Uint8Array>();
  private largeBytes = 0;
  readonly strings = new StringTable();
  private readonly w = new ByteWriter(4096);
  private readonly r = new ByteReader();
  /** Where a checkpoint's records are encoded (not `w`: a delta takes a copy in the middle of an event). */
  private readonly cw = new ByteWriter(4096);

  // ---- hot set ----
  private readonly hot = new Map<number, Hot>();
  /**
   * The hot customers' `skew`, summed. A hot customer's record is as it was when the customer was last
   * written back (its decoded state is newer), and the memory bound counts that record. A checkpoint
   * holds the newer state, so a restored store counts, for each customer it decodes into the hot set,
   * the bytes of the record it replaced (the checkpoint carries them) until the customer leaves.
   */
  private hotSkew = 0;
  private ring: (Hot | undefined)[] = [];
  private ringHead = 0;
  private readonly pool: CustomerState[] = [];
  private readonly hotPool: Hot[] = [];
  /** Objects of customers removed since the last release: recycled only then. */
  private readonly deferred: CustomerState[] = [];
  /** Customers decoded for this event only (`Hot.transient`), and their entries free for the next. */
  private readonly transients: Hot[] = [];
  private readonly transientPool: Hot[] = [];

  private readonly offerMemory = new Map<string, Remembered>();
  private sweepAt = 1024;

  // ---- change tracking (incremental checkpoints) ----
  private readonly tracking: boolean;
  /** The epoch changes are marked with now; a capture closes it. Marks of 0 mean "not since". */
  private epoch = 1;
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  private removed: string[] = [];
  private memoryChanged = new Set<string>();
  /** Stamp counter at the last capture: records stamped after it moved in the epoch since. */
  private capturedStamp = 0;
  /** String table size covered by the last finished part. */
  private stringsCovered = 0;
  /** The delta being written beside the loop, if any. */
  private active: StoreDelta | undefined;
  private base: StoreBase | undefined;
  /** What the last part applied carried: the index's size and the hot set (see `restored`). */
  private restoring: { tableSize: number | undefined; hot: Float64Array | undefined } = { tableSize: undefined, hot: undefined };

  constructor(readonly opts: FeatureStoreOptions) {
    this.ttl = opts.idleTtlMs;
    this.hotMax = opts.hotCustomers ?? 6_144;
    this.tracking = opts.trackChanges ?? false;
  }

  // ---------------------------------------------------------------- columns

  private grow(): void {
    this.addr.push(new Uint32Array(CHUNK));
    this.cls.push(new Uint8Array(CHUNK));
    this.start.push(new Float64Array(CHUNK));
    this.stamp.push(new Float64Array(CHUNK));
    this.prev.push(new Int32Array(CHUNK));
    this.next.push(new Int32Array(CHUNK));
    this.hash.push(new Uint32Array(CHUNK));
    this.mark.push(new Uint32Array(CHUNK));
  }

  private allocIdx(): number {
    if (this.freeCount > 0) return this.freeIdx[--this.freeCount]!;
    if (this.high === this.addr.length * CHUNK) this.grow();
    return this.high++;
  }

  private freeIndex(i: number): void {
    if (this.freeCount === this.freeIdx.length) {
      const g = new Int32Array(this.freeIdx.length * 2);
      g.set(this.freeIdx);
      this.freeIdx = g;
    }
    this.freeIdx[this.freeCount++] = i;
  }

  private startOf(i: number): number {
    return this.start[i >>> CHUNK_BITS]![i & MASK]!;
  }
  private nextOf(i: number): number {
    return this.next[i >>> CHUNK_BITS]![i & MASK]!;
  }
  private prevOf(i: number): number {
    return this.prev[i >>> CHUNK_BITS]![i & MASK]!;
  }
  private markOf(i: number): number {
    return this.mark[i >>> CHUNK_BITS]![i & MASK]!;
  }
  private stampOf(i: number): number {
    return this.stamp[i >>> CHUNK_BITS]![i & MASK]!;
  }

  private unlink(i: number): void {
    // A base being written walks the list: its cursor steps past a customer that moves or goes.
    this.base?.leaving(i);
    const p = this.prevOf(i);
    const n = this.nextOf(i);
    if (p >= 0) this.next[p >>> CHUNK_BITS]![p & MASK] = n;
    else this.head = n;
    if (n >= 0) this.prev[n >>> CHUNK_BITS]![n & MASK] = p;
    else this.tail = p;
  }

  /** Links customer i at the most recent end with the next recency stamp. */
  private append(i: number): void {
    this.link(i);
    this.stamp[i >>> CHUNK_BITS]![i & MASK] = ++this.stampCounter;
  }

  private link(i: number): void {
    const c = i >>> CHUNK_BITS;
    const o = i & MASK;
    this.prev[c]![o] = this.tail;
    this.next[c]![o] = -1;
    if (this.tail >= 0) this.next[this.tail >>> CHUNK_BITS]![this.tail & MASK] = i;
    else this.head = i;
    this.tail = i;
  }

  // ---------------------------------------------------------------- id index

  private find(id: string, h: number): number {
    const t = this.table;
    const mask = this.tableMask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = t[s]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.hash[i >>> CHUNK_BITS]![i & MASK] === h && this.idEquals(i, id)) return i;
    }
  }

  private tableInsert(i: number, h: number): void {
    if ((this.count + 1) * 10 > this.table.length * 6) this.rehash(this.table.length * 2);
    const t = this.table;
    const mask = this.tableMask;
    let s = h & mask;
    while (t[s] !== 0) s = (s + 1) & mask;
    t[s] = i + 1;
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    this.tableMask = size - 1;
    for (const v of old) {
      if (v === 0) continue;
      const i = v - 1;
      let s = this.hash[i >>> CHUNK_BITS]![i & MASK]! & this.tableMask;
      while (this.table[s] !== 0) s = (s + 1) & this.tableMask;
      this.table[s] = v;
    }
  }

  /** Removes index i from the table (backward-shift deletion: no tombstones, probes stay short). */
  private tableRemove(i: number): void {
    const t = this.table;
    const mask = this.tableMask;
    let s = this.hash[i >>> CHUNK_BITS]![i & MASK]! & mask;
    while (t[s] !== i + 1) s = (s + 1) & mask;
    t[s] = 0;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const v = t[j]!;
      if (v === 0) return;
      const k = this.hash[(v - 1) >>> CHUNK_BITS]![(v - 1) & MASK]! & mask;
      // Move v back to the hole if its home k is not cyclically within (s, j].
      if (s <= j ? k <= s || k > j : k <= s && k > j) {
        t[s] = v;
        t[j] = 0;
        s = j;
      }
    }
  }

  // ---------------------------------------------------------------- records
  // A record: [length of the rest: varint, 1–3 bytes][id: varint (units × 2 + wide), code units][customer state].

  /** The record's bytes (a view: valid until the record changes). */
  private recordOf(i: number): Uint8Array {
    const k = this.cls[i >>> CHUNK_BITS]![i & MASK]!;
    if (k === LARGE) return this.large.get(i)!;
    const a = this.addr[i >>> CHUNK_BITS]![i & MASK]!;
    const chunk = this.arena.chunkOf(a);
    const off = this.arena.offsetOf(a);
    const b0 = chunk[off]!;
    if (b0 < 0x80) return chunk.subarray(off, off + 1 + b0);
    const b1 = chunk[off + 1]!;
    if (b1 < 0x80) return chunk.subarray(off, off + 2 + ((b0 & 0x7f) | (b1 << 7)));
    return chunk.subarray(off, off + 3 + ((b0 & 0x7f) | ((b1 & 0x7f) << 7) | (chunk[off + 2]! << 14)));
  }

  /** The customer whose record has the same id as `rec` (its hash `h`), or −1. */
  private findRecord(rec: Uint8Array, h: number): number {
    const t = this.table;
    const mask = this.tableMask;
    const a = recordStart(rec);
    const n = FeatureStore.stateOffset(rec) - a;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = t[s]!;
      if (v === 0) return -1;
      const i = v - 1;
      if (this.hash[i >>> CHUNK_BITS]![i & MASK] !== h) continue;
      const other = this.recordOf(i);
      const b = recordStart(other);
      let same = FeatureStore.stateOffset(other) - b === n;
      for (let k = 0; same && k < n; k++) same = other[b + k] === rec[a + k];
      if (same) return i;
    }
  }

  private idEquals(i: number, id: string): boolean {
    const rec = this.recordOf(i);
    const r = this.r.reset(rec, recordStart(rec));
    const u = r.uvar();
    const n = u >>> 1;
    if (n !== id.length) return false;
    let p = r.pos;
    if (u & 1) {
      for (let k = 0; k < n; k++, p += 2) if ((rec[p]! | (rec[p + 1]! << 8)) !== id.charCodeAt(k)) return false;
    } else for (let k = 0; k < n; k++, p++) if (rec[p] !== id.charCodeAt(k)) return false;
    return true;
  }

  /** The id a record starts with. */
  static idOfRecord(rec: Uint8Array): string {
    const u = idHeader(rec);
    let p = idStart(rec, u);
    const n = Math.floor(u / 2);
    let s = "";
    if (u % 2) for (let k = 0; k < n; k++, p += 2) s += String.fromCharCode(rec[p]! | (rec[p + 1]! << 8));
    else for (let k = 0; k < n; k++, p++) s += String.fromCharCode(rec[p]!);
    return s;
  }

  private idOf(i: number): string {
    return FeatureStore.idOfRecord(this.recordOf(i));
  }

  /** Where the state starts in a record (after the length and the id). */
  private static stateOffset(rec: Uint8Array): number {
    const u = idHeader(rec);
    return idStart(rec, u) + Math.floor(u / 2) * (u % 2 ? 2 : 1);
  }

  private writeId(w: ByteWriter, id: string): void {
    let wide = 0;
    for (let k = 0; k < id.length; k++) if (id.charCodeAt(k) > 0xff) wide = 1;
    w.uvar(id.length * 2 + wide);
    if (wide)
      for (let k = 0; k < id.length; k++) {
        const c = id.charCodeAt(k);
        w.byte(c & 0xff);
        w.byte(c >>> 8);
      }
    else for (let k = 0; k < id.length; k++) w.byte(id.charCodeAt(k));
  }

  /** Starts a record in the writer: room for its length, filled in by `storeRecord`. */
  private static beginRecord(w: ByteWriter): ByteWriter {
    w.reset();
    w.byte(0);
    w.byte(0);
    w.byte(0);
    return w;
  }

  /** Stores the record begun in the writer (`beginRecord`) as customer i's, its length written in front. */
  private storeRecord(i: number, w: ByteWriter): void {
    this.storeBytes(i, FeatureStore.sealRecord(w));
  }

  /** The record begun in the writer (`beginRecord`), its length written in front (a view of the writer). */
  private static sealRecord(w: ByteWriter): Uint8Array {
    const len = w.len - 3;
    if (len >= 1 << 21) throw new RangeError(`a customer record of ${len} bytes is beyond what a record holds (2 MiB)`);
    const b = w.buf;
    let at: number;
    if (len < 0x80) {
      at = 2;
      b[2] = len;
    } else if (len < 0x4000) {
      at = 1;
      b[1] = (len & 0x7f) | 0x80;
      b[2] = len >>> 7;
    } else {
      at = 0;
      b[0] = (len & 0x7f) | 0x80;
      b[1] = ((len >>> 7) & 0x7f) | 0x80;
      b[2] = len >>> 14;
    }
    return b.subarray(at, w.len);
  }

  /** Stores a whole record (length in front) as customer i's. */
  private storeBytes(i: number, rec: Uint8Array): void {
    const c = i >>> CHUNK_BITS;
    const o = i & MASK;
    const old = this.cls[c]![o]!;
    const k = blockClass(rec.length);
    if (old === LARGE) {
      this.largeBytes -= this.large.get(i)!.length;
      this.large.delete(i);
    } else if (old !== 0 && old - 1 !== k) this.arena.release(this.addr[c]![o]!, old - 1);
    if (k < 0) {
      this.large.set(i, rec.slice());
      this.largeBytes += rec.length;
      this.cls[c]![o] = LARGE;
      return;
    }
    if (old - 1 !== k) {
      this.addr[c]![o] = this.arena.alloc(k);
      this.cls[c]![o] = k + 1;
    }
    const a = this.addr[c]![o]!;
    this.arena.chunkOf(a).set(rec, this.arena.offsetOf(a));
  }

  private freeRecord(i: number): void {
    const c = i >>> CHUNK_BITS;
    const o = i & MASK;
    const k = this.cls[c]![o]!;
    if (k === LARGE) {
      this.largeBytes -= this.large.get(i)!.length;
      this.large.delete(i);
    } else if (k !== 0) this.arena.release(this.addr[c]![o]!, k - 1);
    this.cls[c]![o] = 0;
  }

  /** Rewrites customer i's record from a state, keeping its id. */
  private rewrite(i: number, state: CustomerState): void {
    const w = FeatureStore.beginRecord(this.w);
    const rec = this.recordOf(i);
    w.bytes(rec.subarray(recordStart(rec), FeatureStore.stateOffset(rec)));
    encodeCustomer(state, w, this.strings);
    this.storeRecord(i, w);
  }

  /**
   * Customer i's record as it is now, for a checkpoint (a view until the next call). A decoded customer
   * that changed is encoded into a buffer of its own, and the store is left as it was. Writing the
   * record back here, as this once did, changed what the memory bound counts at whatever moment a
   * checkpoint was written; a replay, whose checkpoints fall elsewhere, then evicted otherwise. For the
   * same reason a string the table lacks is written inline, not added (the loop adds it when it
   * writes the customer back).
   */
  private currentRecord(i: number): Uint8Array {
    const h = this.hot.get(i);
    if (!h?.dirty) return this.recordOf(i);
    const w = FeatureStore.beginRecord(this.cw);
    const rec = this.recordOf(i);
    w.bytes(rec.subarray(recordStart(rec), FeatureStore.stateOffset(rec)));
    this.strings.frozen = true;
    try {
      encodeCustomer(h.c, w, this.strings);
    } finally {
      this.strings.frozen = false;
    }
    return FeatureStore.sealRecord(w);
  }

  /** Bytes customer i's record takes (its block, or its own buffer when larger than any block). */
  private recordBytes(i: number): number {
    const k = this.cls[i >>> CHUNK_BITS]![i & MASK]!;
    return k === LARGE ? this.large.get(i)!.length : k === 0 ? 0 : BLOCK_SIZES[k - 1]!;
  }

  private decodeInto(i: number, c: CustomerState): CustomerState {
    const rec = this.recordOf(i);
    return decodeCustomer(this.r.reset(rec, FeatureStore.stateOffset(rec), rec.length), this.strings, c);
  }

  // ---------------------------------------------------------------- hot set

  /**
   * Customer i decoded: from the hot set, else decoded into it when `admit`, else decoded for this event
   * only (a transient entry).
   */
  private hotOf(i: number, admit: boolean): Hot {
    const h = this.hot.get(i);
    if (h) {
      h.ref = true;
      return h;
    }
    if (!admit) {
      const t = this.takeTransient();
      this.decodeInto(i, t.c);
      this.holdTransient(i, t, false);
      return t;
    }
    const c = this.decodeInto(i, this.pool.pop() ?? new CustomerState());
    return this.addHot(i, c, false);
  }

  /**
   * Whether customer i, not hot, joins the hot set at this touch: only when it was touched within the
   * last `hotCustomers` touches (read before the touch moves its stamp). A customer seen once in a
   * while is decoded for its event into an object reused from event to event and written back at
   * once, while that object is still in the CPU's cache; admitting it instead evicted the least
   * recently used customer, whose scattered objects were read from memory to be written back, and
   * its newly decoded arrays lived long enough for the young generation to copy and promote them.
   * At 50 promotions over 20,000 customers (bench/decide.bench.ts, none seen twice within 6,144) this
   * took decide() from 26 to 15 µs (medians of five paired runs; CPU 23.6 → 14.8 µs).
   * A customer with several events close together (a visit) is admitted at its second.
   */
  private admits(i: number): boolean {
    return this.stampCounter - this.stampOf(i) <= this.hotMax;
  }

  private takeTransient(): Hot {
    return this.transientPool.pop() ?? { idx: -1, c: new CustomerState(), dirty: false, ref: false, transient: true, skew: 0 };
  }

  private holdTransient(i: number, t: Hot, dirty: boolean): void {
    t.idx = i;
    t.dirty = dirty;
    this.hot.set(i, t);
    this.transients.push(t);
  }

  /** Customer i's decoded state c joins the hot set (a recycled entry when there is one), just used. */
  private addHot(i: number, c: CustomerState, dirty: boolean): Hot {
    const h = this.hotPool.pop() ?? { idx: i, c, dirty, ref: true, transient: false, skew: 0 };
    h.idx = i;
    h.c = c;
    h.dirty = dirty;
    h.ref = true;
    h.skew = 0;
    this.hot.set(i, h);
    this.ring.push(h);
    return h;
  }

  /** Drops a removed customer's hot entry; its object is recycled at the next release. */
  private dropHot(i: number): void {
    const h = this.hot.get(i);
    if (!h) return;
    this.hot.delete(i);
    // A transient entry keeps its object (it goes back with the entry at the next release).
    if (!h.transient) this.deferred.push(h.c);
    this.hotSkew -= h.skew;
    h.idx = -1;
  }

  /**
   * The objects handed out since the last call are no longer in use: trims the hot set to its size
   * (writing changed customers back to their records) and applies the memory bound. The engine
   * calls it before each event.
   */
  release(): void {
    for (const t of this.transients) {
      if (t.idx >= 0 && this.hot.get(t.idx) === t) {
        if (t.dirty) this.rewrite(t.idx, t.c);
        this.hot.delete(t.idx);
      }
      t.idx = -1;
      this.transientPool.push(t);
    }
    if (this.transients.length) this.transients.length = 0;
    for (const c of this.deferred) this.pool.push(c);
    this.deferred.length = 0;
    if (this.ring.length - this.ringHead > 2 * this.hotMax + 64) this.compactRing();
    while (this.hot.size > this.hotMax && this.ringHead < this.ring.length) {
      const h = this.ring[this.ringHead];
      this.ring[this.ringHead++] = undefined;
      if (!h) continue;
      if (h.idx < 0 || this.hot.get(h.idx) !== h) {
        this.hotPool.push(h);
        continue;
      }
      if (h.ref) {
        h.ref = false;
        this.ring.push(h);
        continue;
      }
      this.hotSkew -= h.skew;
      if (h.dirty) {
        // Its record changes now: the next delta must hold it as written here. (A checkpoint taken
        // while it was hot wrote its state with new strings inline: other bytes.)
        this.changing(h.idx);
        this.rewrite(h.idx, h.c);
      }
      this.hot.delete(h.idx);
      this.pool.push(h.c);
      this.hotPool.push(h);
    }
    if (this.ringHead > 4096 && this.ringHead * 2 > this.ring.length) this.compactRing();
    this.enforceMemory();
  }

  private compactRing(): void {
    const live: Hot[] = [];
    for (let k = this.ringHead; k < this.ring.length; k++) {
      const h = this.ring[k];
      if (!h) continue;
      if (h.idx >= 0 && this.hot.get(h.idx) === h) live.push(h);
      else this.hotPool.push(h);
    }
    this.ring = live;
    this.ringHead = 0;
  }

  private enforceMemory(): void {
    const max = this.opts.maxMemoryBytes;
    if (max === undefined) return;
    while (this.count > 1 && this.memoryBytes > max) this.remove(this.head, "evict");
  }

  /**
   * What the store holds in memory, bytes, as the bound counts it: the customers' columns and records,
   * the id index, and the hot set. The hot set is counted at the most it may hold (hotCustomers, or
   * the customer count if smaller): the bound then still holds once it fills, and the count does not
   * depend on which customers a restore decoded (an older checkpoint carries none). The other terms
   * come back exactly from a checkpoint (the index's size, and the bytes of the records the hot
   * customers' newer states replaced, travel with it). So a restored store evicts the same customers
   * at the same events as the store it came from; a replay makes the same decisions only then.
   */
  get memoryBytes(): number {
    return this.count * COLUMN_BYTES + this.table.length * 4 + this.arena.liveBytes + this.largeBytes + this.hotSkew + Math.min(this.count, this.hotMax) * HOT_BYTES;
  }

  /** Sizes for the bench and /metrics. */
  stats(): { customers: number; hot: number; columnBytes: number; tableBytes: number; recordBytes: number; arenaChunkBytes: number; strings: number } {
    return {
      customers: this.count,
      hot: this.hot.size,
      columnBytes: this.addr.length * CHUNK * COLUMN_BYTES,
      tableBytes: this.table.length * 4,
      recordBytes: this.arena.liveBytes + this.largeBytes,
      arenaChunkBytes: this.arena.chunkBytes,
      strings: this.strings.size,
    };
  }

  // ---------------------------------------------------------------- change tracking

  /**
   * Customer i is about to change (content, recency or removal): a delta being written that holds
   * it takes it first, as it was; then it is marked as changed in this epoch.
   */
  private changing(i: number): void {
    if (!this.tracking) return;
    const c = i >>> CHUNK_BITS;
    const o = i & MASK;
    const m = this.mark[c]![o]!;
    if (this.active && m === this.active.epoch) this.active.take(i);
    if (m !== this.epoch) {
      this.mark[c]![o] = this.epoch;
      if (this.dirtyCount === this.dirty.length) {
        const g = new Int32Array(this.dirty.length * 2);
        g.set(this.dirty);
        this.dirty = g;
      }
      this.dirty[this.dirtyCount++] = i;
    }
  }

  private memoryChanging(id: string): void {
    if (this.tracking) this.memoryChanged.add(id);
  }

  // ---------------------------------------------------------------- the store's API

  private isStale(i: number): boolean {
    const s = this.startOf(i);
    return this.ttl !== 0 && s !== 0 && this.nowMs - s > this.ttl;
  }

  /** Moves customer i to the most recent end and restarts its idle time (lru-cache's get/set). */
  private touch(i: number): void {
    this.changing(i);
    this.unlink(i);
    this.append(i);
    this.start[i >>> CHUNK_BITS]![i & MASK] = this.ttl !== 0 ? this.nowMs : 0;
  }

  private remove(i: number, reason: "evict" | "expire"): void {
    this.changing(i);
    const h = this.hot.get(i);
    const c = h ? h.c : this.decodeInto(i, this.pool.pop() ?? new CustomerState());
    const id = this.idOf(i);
    if (reason === "evict") this.evictions++;
    else this.expirations++;
    this.remember(id, c);
    if (!h) this.pool.push(c);
    this.dropHot(i);
    this.unlink(i);
    this.tableRemove(i);
    this.freeRecord(i);
    this.mark[i >>> CHUNK_BITS]![i & MASK] = 0;
    this.freeIndex(i);
    this.count--;
    if (this.tracking) this.removed.push(id);
  }

  private remember(customerId: string, c: CustomerState): void {
    const keep = this.opts.offerMemoryMs ?? 0;
    const newestMs = newestOfferMs(c);
    if (keep <= 0 || newestMs === 0 || newestMs < this.nowMs - keep) return;
    const offers = this.reachableOffers(c.offers, keep);
    if (!offers) return;
    let newest = 0;
    for (const k in offers) newest = Math.max(newest, offers[k as Channel]!.at(-1)!);
    this.offerMemory.set(customerId, { offers, newestMs: newest });
    this.memoryChanging(customerId);
    if (this.offerMemory.size >= this.sweepAt) {
      // Amortised O(1): a sweep runs only after the table doubled since the last one.
      for (const [k, m] of this.offerMemory)
        if (m.newestMs < this.nowMs - keep) {
          this.offerMemory.delete(k);
          this.memoryChanging(k);
        }
      this.sweepAt = Math.max(1024, 2 * this.offerMemory.size);
    }
  }

  /**
   * A copy of the offers a cap can still reach (each channel's within its own horizon, at most
   * `keep`), or undefined when none is. Offers older than that cannot bind a cap again: a decision
   * is at most the allowed lateness behind the clock, which never goes back.
   */
  private reachableOffers(o: CustomerState["offers"], keep: number): CustomerState["offers"] | undefined {
    const by = this.opts.offerMemoryMsByChannel;
    let out: CustomerState["offers"] | undefined;
    for (const k in o) {
      const ch = k as Channel;
      const list = o[ch];
      if (!list) continue;
      const from = this.nowMs - Math.min(keep, by?.[ch] ?? keep);
      let i = 0;
      while (i < list.length && list[i]! < from) i++;
      if (i < list.length) (out ??= {})[ch] = list.slice(i);
    }
    return out;
  }

  /** Moves the store's clock (event time); never backwards. */
  setNow(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
  }

  private lookup(id: string): number {
    return this.count === 0 ? -1 : this.find(id, hashId(id));
  }

  get(customerId: string): CustomerState | undefined {
    const i = this.lookup(customerId);
    if (i < 0) return undefined;
    if (this.isStale(i)) {
      this.remove(i, "expire");
      return undefined;
    }
    const admit = this.admits(i);
    this.touch(i);
    return this.hotOf(i, admit).c;
  }

  getOrCreate(customerId: string): CustomerState {
    let i = this.lookup(customerId);
    if (i >= 0 && this.isStale(i)) {
      this.remove(i, "expire");
      i = -1;
    }
    if (i >= 0) {
      const admit = this.admits(i);
      this.touch(i);
      const h = this.hotOf(i, admit);
      h.dirty = true;
      return h.c;
    }
    // A new customer is seen once so far: transient, as any customer outside the hot set.
    const t = this.takeTransient();
    const c = t.c;
    decodeCustomer(this.r.reset(EMPTY_RECORD), this.strings, c);
    const m = this.offerMemory.get(customerId);
    if (m) {
      c.offers = m.offers;
      this.offerMemory.delete(customerId);
      this.memoryChanging(customerId);
    }
    this.insert(customerId, c, undefined, t);
    return c;
  }

  /** A new customer at the most recent end, with state c (changed: hot, or the transient entry t's). */
  private insert(customerId: string, c: CustomerState, start = this.ttl !== 0 ? this.nowMs : 0, t?: Hot): number {
    if (this.opts.maxCustomers !== undefined && this.count >= this.opts.maxCustomers && this.head >= 0) this.remove(this.head, "evict");
    const i = this.allocIdx();
    const h = hashId(customerId);
    const k = i >>> CHUNK_BITS;
    const o = i & MASK;
    this.hash[k]![o] = h;
    this.cls[k]![o] = 0;
    this.mark[k]![o] = 0;
    this.tableInsert(i, h);
    this.count++;
    this.append(i);
    this.start[k]![o] = start;
    const w = FeatureStore.beginRecord(this.w);
    this.writeId(w, customerId);
    w.bytes(EMPTY_RECORD);
    this.storeRecord(i, w);
    this.changing(i);
    if (t) this.holdTransient(i, t, true);
    else this.addHot(i, c, true);
    return i;
  }

  /**
   * A cached customer about to change, without touching its place in the LRU (for changes that are
   * not the customer's own activity, e.g. a decision's outcome closing later); undefined when gone.
   */
  getForUpdate(customerId: string): CustomerState | undefined {
    const i = this.lookup(customerId);
    if (i < 0 || this.isStale(i)) return undefined;
    this.changing(i);
    // Not the customer's own activity: no reason to keep it decoded.
    const h = this.hotOf(i, false);
    h.dirty = true;
    return h.c;
  }

  set(customerId: string, c: CustomerState): void {
    const i = this.lookup(customerId);
    if (i < 0) {
      this.insert(customerId, c);
      return;
    }
    this.touch(i);
    const h = this.hot.get(i);
    if (h) {
      if (h.c !== c) this.deferred.push(h.c);
      h.c = c;
      h.dirty = true;
      h.ref = true;
    } else {
      this.addHot(i, c, true);
    }
  }

  get size(): number {
    return this.count;
  }
  /** Customers whose features are gone but whose recent offer times are kept for the caps. */
  get rememberedOffers(): number {
    return this.offerMemory.size;
  }
  /** Offer times of a customer, whether in the cache or only remembered (for caps and tests). */
  offersOf(customerId: string, channel: Channel): readonly number[] {
    const i = this.lookup(customerId);
    if (i >= 0 && !this.isStale(i)) {
      const h = this.hot.get(i);
      return (h ? h.c : this.decodeInto(i, new CustomerState())).offers[channel] ?? [];
    }
    return this.offerMemory.get(customerId)?.offers[channel] ?? [];
  }

  /**
   * Drops every customer idle longer than the TTL. The recency list is ordered by TTL start (every move
   * to the end restarts it, and the clock never goes back), so the stale ones are its head: this costs
   * what it drops, where lru-cache's purgeStale walked all customers (0.1 s at 1M).
   */
  purgeStale(): void {
    if (this.ttl === 0) return;
    let i = this.head;
    while (i >= 0) {
      const s = this.startOf(i);
      const n = this.nextOf(i);
      if (s === 0) {
        i = n;
        continue;
      }
      if (this.nowMs - s <= this.ttl) return;
      this.remove(i, "expire");
      i = n;
    }
  }

  /** Customers from most to least recently used (not idle past the TTL), each decoded. */
  *entries(): IterableIterator<[string, CustomerState]> {
    for (let i = this.tail; i >= 0; i = this.prevOf(i)) {
      if (this.isStale(i)) continue;
      const h = this.hot.get(i);
      yield [this.idOf(i), h ? h.c : this.decodeInto(i, new CustomerState())];
    }
  }

  /** The event-time clock (for checkpoints). */
  get now(): number {
    return this.nowMs;
  }

  /**
   * Customers from least to most recently used, each with its TTL start in event time (what the object
   * store's toJSON gave: customers idle past the TTL are left out). For tests; checkpoints are written
   * as parts (captureDelta, beginBase), JSON ones by earlier versions (`exportJSON` for tests of them).
   */
  toJSON(): StoreState {
    const customers: StoreState["customers"] = [];
    for (let i = this.head; i >= 0; i = this.nextOf(i)) {
      if (this.isStale(i)) continue;
      customers.push([this.idOf(i), this.customerJSON(i), this.startOf(i)]);
    }
    return { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, customers, offerMemory: this.offerMemoryJSON(), sweepAt: this.sweepAt };
  }

  /**
   * The store as a JSON checkpoint, restored by `fromJSON` to one that evicts as this one would:
   * `toJSON`'s form with every customer (an idle one counts toward the memory bound until it is swept)
   * and `bound`, what the bound counts beyond the customers' states. The customers decoded for the
   * last event are written back first, as the next `release()` would.
   */
  exportJSON(): StoreState {
    this.flushTransients();
    const customers: StoreState["customers"] = [];
    const stamps: number[] = [];
    /** Position in `customers` by recency stamp. */
    const at = new Map<number, number>();
    for (let i = this.head; i >= 0; i = this.nextOf(i)) {
      at.set(this.stampOf(i), customers.length);
      customers.push([this.idOf(i), this.customerJSON(i), this.startOf(i)]);
      stamps.push(this.stampOf(i));
    }
    const flat = this.hotNow();
    const hot: StoreBound["hot"] = [];
    for (let k = 0; k < flat.length; k += 3) hot.push([at.get(flat[k]!)!, flat[k + 1]!, flat[k + 2]!]);
    return {
      nowMs: this.nowMs,
      evictions: this.evictions,
      expirations: this.expirations,
      customers,
      offerMemory: this.offerMemoryJSON(),
      sweepAt: this.sweepAt,
      bound: { stampCounter: this.stampCounter, stamps, hot, tableSize: this.table.length, strings: this.strings.list.slice() },
    };
  }

  private customerJSON(i: number): CustomerJSON {
    const h = this.hot.get(i);
    return customerToJSON(h ? h.c : this.decodeInto(i, new CustomerState()));
  }

  private offerMemoryJSON(): StoreState["offerMemory"] {
    return [...this.offerMemory].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, m]) => [k, { offers: copyOffers(m.offers), newestMs: m.newestMs }]);
  }

  /**
   * A store from `toJSON`/`exportJSON`'s form. With `bound` (exportJSON) it is the store exported:
   * same stamps, string numbers, index size and hot set; without (a checkpoint of an earlier version),
   * its customers get fresh stamps in their order and its hot set starts empty.
   */
  static fromJSON(opts: FeatureStoreOptions, s: StoreState): FeatureStore {
    const f = new FeatureStore(opts);
    f.nowMs = s.nowMs;
    const b = s.bound;
    if (b) f.strings.extend(0, b.strings);
    const at: number[] = [];
    s.customers.forEach(([id, c, start], k) => {
      const w = FeatureStore.beginRecord(f.w);
      f.writeId(w, id);
      // With the table exported, a record takes no new strings: only a hot customer's state can hold
      // one the table lacks, and the store exported adds it when it writes the customer back.
      f.strings.frozen = b !== undefined;
      try {
        encodeCustomer(customerFromJSON(c), w, f.strings);
      } finally {
        f.strings.frozen = false;
      }
      at.push(f.putRecord(b ? b.stamps[k]! : ++f.stampCounter, start, FeatureStore.sealRecord(w), "end"));
    });
    if (b) {
      f.stampCounter = b.stampCounter;
      f.restoreTableSize(b.tableSize);
      f.restoreHot(Float64Array.from(b.hot.flat()), (pos) => at[pos]);
    }
    // A checkpoint holding more customers than the bound now allows (the configuration changed).
    const max = opts.maxCustomers;
    while (max !== undefined && f.count > max && f.head >= 0) f.remove(f.head, "evict");
    f.evictions = s.evictions;
    f.expirations = s.expirations;
    for (const [k, m] of s.offerMemory) f.offerMemory.set(k, { offers: copyOffers(m.offers), newestMs: m.newestMs });
    f.sweepAt = s.sweepAt;
    // Nothing to trim or evict here: the next release() does it, as it would have in the store exported.
    f.resetTracking();
    return f;
  }

  /** After a restore: nothing has changed since the state restored. */
  private resetTracking(): void {
    for (let k = 0; k < this.mark.length; k++) this.mark[k]!.fill(0);
    this.epoch = 1;
    this.dirtyCount = 0;
    this.removed = [];
    this.memoryChanged.clear();
    this.capturedStamp = this.stampCounter;
    this.stringsCovered = this.strings.size;
  }

  // ---------------------------------------------------------------- checkpoint parts (parts.ts)

  /**
   * What changed since the last capture, as of now, to be written beside the loop (`StoreDelta.step`):
   * the loop stops only to close the epoch and copy the small things (the removed ids, the changed
   * offer memory, the counters). Changed customers are written later, copy-on-write: one about to
   * change again is written first, as it was.
   */
  captureDelta(): StoreDelta {
    if (!this.tracking) throw new Error("this store does not track changes (trackChanges)");
    if (this.active && !this.active.done) throw new Error("a delta of this store is still being written");
    const memory: [string, Remembered | undefined][] = [];
    for (const k of this.memoryChanged) {
      const m = this.offerMemory.get(k);
      memory.push([k, m && { offers: copyOffers(m.offers), newestMs: m.newestMs }]);
    }
    this.flushTransients();
    const d = new StoreDelta(this, {
      epoch: this.epoch,
      sinceStamp: this.capturedStamp,
      stampCounter: this.stampCounter,
      nowMs: this.nowMs,
      evictions: this.evictions,
      expirations: this.expirations,
      sweepAt: this.sweepAt,
      tableSize: this.table.length,
      dirty: this.dirty.subarray(0, this.dirtyCount),
      removed: this.removed,
      memory,
      hot: this.hotNow(),
    });
    this.epoch++;
    this.dirty = new Int32Array(Math.max(1024, this.dirtyCount >>> 1));
    this.dirtyCount = 0;
    this.removed = [];
    this.memoryChanged = new Set();
    this.capturedStamp = this.stampCounter;
    this.active = d.done ? undefined : d;
    return d;
  }

  /**
   * Writes back the customers decoded for the last event only, as the next `release()` would (nothing
   * touches the store in between, so it comes to the same): a checkpoint then holds their records as
   * the loop will have them, strings added to the table included.
   */
  private flushTransients(): void {
    for (const t of this.transients)
      if (t.dirty && t.idx >= 0 && this.hot.get(t.idx) === t) {
        this.rewrite(t.idx, t.c);
        t.dirty = false;
      }
  }

  /**
   * The hot set as a checkpoint carries it, in the order it is trimmed (which customer leaves next
   * depends on it): each customer's recency stamp (it names the customer), whether it was used since
   * the last trim (1/0), and the record bytes the memory bound counts for it. Copied while the loop
   * waits, once per checkpoint and so never optimised: plain reads, no lookups (with a Map lookup per
   * entry this took 2–4 ms for 6,144 customers; the capture's pause was 0.1 ms before).
   */
  private hotNow(): Float64Array {
    const out = new Float64Array(3 * this.hot.size);
    let n = 0;
    const ring = this.ring;
    for (let k = this.ringHead; k < ring.length; k++) {
      const h = ring[k];
      // Live entries only: one that left the hot set had its slot cleared (trimmed) or its idx set to
      // −1 (dropHot; it stays in the ring until the trim passes it). Transients are never in the ring.
      if (h === undefined || h.idx < 0) continue;
      const i = h.idx;
      out[n++] = this.stamp[i >>> CHUNK_BITS]![i & MASK]!;
      out[n++] = h.ref ? 1 : 0;
      out[n++] = this.recordBytes(i) + h.skew;
    }
    return out.subarray(0, n);
  }

  /**
   * Every customer, written beside the loop from least to most recently used as the walk finds them
   * (fuzzy): it restores to a consistent state only followed by the delta captured next, which holds
   * whatever changed after this call. The loop stops for nothing here. Begin it right after
   * `captureDelta` and pass that delta: the base waits for it to be written.
   */
  beginBase(after: StoreDelta | undefined): StoreBase {
    if (this.base && !this.base.done) throw new Error("a base of this store is still being written");
    const b = new StoreBase(this, this.head, after);
    this.base = b.done ? undefined : b;
    return b;
  }

  /**
   * After a restore from an older checkpoint (JSON) or none: every customer counts as changed, so the
   * next delta holds the whole store and a chain can start from it.
   */
  markAllChanged(): void {
    if (!this.tracking) return;
    for (let i = this.head; i >= 0; i = this.nextOf(i)) this.changing(i);
    for (const k of this.offerMemory.keys()) this.memoryChanging(k);
    this.capturedStamp = 0;
    this.stringsCovered = 0;
  }

  /** @internal For StoreDelta: customer i's record, stamp and TTL start as they are now (a copy). */
  recordNow(i: number): TakenRecord {
    return { rec: this.currentRecord(i).slice(), stamp: this.stampOf(i), start: this.startOf(i), mark: this.markOf(i) };
  }
  /** @internal Writes customer i's record frame as it is now. */
  writeRecordNow(i: number, w: ByteWriter): void {
    const rec = this.currentRecord(i);
    writeRecordFrame(w, this.stampOf(i), this.startOf(i), rec);
  }
  /** @internal */
  markAt(i: number): number {
    return this.markOf(i);
  }
  /** @internal */
  nextIndex(i: number): number {
    return this.nextOf(i);
  }
  /** @internal */
  partDone(part: StoreDelta | StoreBase): void {
    if (this.active === part) this.active = undefined;
    if (this.base === part) this.base = undefined;
  }
  /**
   * @internal The strings a delta must carry: those added since the previous delta was written, as
   * of now (its records may refer to any of them).
   */
  takeStrings(): { from: number; strings: string[] } {
    const from = this.stringsCovered;
    this.stringsCovered = this.strings.size;
    return { from, strings: this.strings.list.slice(from) };
  }
  /** @internal A base carries the whole table, as of its end. */
  baseStrings(): string[] {
    return this.strings.list.slice();
  }
  /** @internal */
  header(): PartHeader {
    return { nowMs: this.nowMs, evictions: this.evictions, expirations: this.expirations, sweepAt: this.sweepAt, stampCounter: this.stampCounter, sinceStamp: -1, tableSize: this.table.length };
  }
  /** @internal All remembered offers now. */
  memoryNow(): [string, Remembered][] {
    return [...this.offerMemory].map(([k, m]) => [k, { offers: copyOffers(m.offers), newestMs: m.newestMs }]);
  }

  // ---- restoring (StoreApplier) ----

  /** @internal A customer's record from a part: upserted; linked at the end unless `inPlace`, or left unlinked for `linkLater`. */
  putRecord(stamp: number, start: number, rec: Uint8Array, mode: "end" | "inPlace" | "later"): number {
    // Hashed and compared as bytes: building each id as a string was a third of a restore's time.
    const h = hashRecordId(rec);
    let i = this.count === 0 ? -1 : this.findRecord(rec, h);
    if (i < 0) {
      i = this.allocIdx();
      const c = i >>> CHUNK_BITS;
      const o = i & MASK;
      this.hash[c]![o] = h;
      this.cls[c]![o] = 0;
      this.mark[c]![o] = 0;
      this.tableInsert(i, h);
      this.count++;
      if (mode !== "later") this.link(i);
      else this.next[c]![o] = -2;
    } else if (mode !== "inPlace" && this.nextOf(i) !== -2) {
      this.unlink(i);
      if (mode === "end") this.link(i);
      else this.next[i >>> CHUNK_BITS]![i & MASK] = -2;
    }
    this.storeBytes(i, rec);
    const c = i >>> CHUNK_BITS;
    this.start[c]![i & MASK] = start;
    this.stamp[c]![i & MASK] = stamp;
    return i;
  }
  /** @internal Links customers left unlinked by putRecord(…, "later"), in the order given. */
  linkAll(order: readonly number[]): void {
    for (const i of order) if (this.nextOf(i) === -2) this.link(i);
  }
  /** @internal A removal from a part: no counting, no offer memory. */
  detachId(id: string): void {
    const i = this.lookup(id);
    if (i < 0) return;
    if (this.nextOf(i) !== -2) this.unlink(i);
    this.tableRemove(i);
    this.freeRecord(i);
    this.mark[i >>> CHUNK_BITS]![i & MASK] = 0;
    this.freeIndex(i);
    this.count--;
  }
  /** @internal A part is applied: its header, and the hot set it carried (none in a base or an older part). */
  setHeader(h: PartHeader, hot: Float64Array | undefined): void {
    this.nowMs = h.nowMs;
    this.evictions = h.evictions;
    this.expirations = h.expirations;
    this.sweepAt = h.sweepAt;
    this.stampCounter = Math.max(this.stampCounter, h.stampCounter);
    // The last part's say (a restore ends with the delta captured last).
    this.restoring = { tableSize: h.tableSize, hot };
  }
  /** @internal */
  extendStrings(from: number, strings: readonly string[]): void {
    if (from > this.strings.size) throw new RangeError(`a feature store part adds strings from ${from}, the table holds ${this.strings.size}`);
    if (from + strings.length > this.strings.size) this.strings.extend(this.strings.size, strings.slice(this.strings.size - from));
  }
  /** @internal */
  memorySet(id: string, m: Remembered | undefined): void {
    if (m) this.offerMemory.set(id, m);
    else this.offerMemory.delete(id);
  }
  /** @internal */
  memoryClear(): void {
    this.offerMemory.clear();
  }
  /** @internal A restore is over: the index's size and the hot set as carried; nothing has changed since the state it restored. */
  restored(): void {
    const { tableSize, hot } = this.restoring;
    this.restoring = { tableSize: undefined, hot: undefined };
    if (tableSize !== undefined) this.restoreTableSize(tableSize);
    if (hot) {
      const at = this.stampIndex(hot);
      this.restoreHot(hot, (stamp) => at.get(stamp));
    }
    this.resetTracking();
  }

  /**
   * The id index at the size the store restored had: the index only grows, so its size is the
   * history of the customer count, and the memory bound counts it. (A restore's own inserts may
   * have grown it further: a base holds customers gone by the delta after it.)
   */
  private restoreTableSize(size: number): void {
    if (size === this.table.length || size < 1024 || (size & (size - 1)) !== 0 || this.count * 10 > size * 6) return;
    this.rehash(size);
  }

  /** Customers by the stamps in a carried hot set (stamp, ref, counted triples): the walk stops once all are found. */
  private stampIndex(hot: Float64Array): Map<number, number> {
    const want = new Set<number>();
    for (let k = 0; k < hot.length; k += 3) want.add(hot[k]!);
    const found = new Map<number, number>();
    for (let i = this.tail; i >= 0 && found.size < want.size; i = this.prevOf(i)) {
      const st = this.stampOf(i);
      if (want.has(st)) found.set(st, i);
    }
    return found;
  }

  /**
   * Decodes the carried hot set (triples: customer by `at`, use bit, record bytes counted) in its
   * order, so the restored store trims it as the store it came from would. Each is taken as changed
   * and written back when it leaves: its record is the one the checkpoint wrote, which may hold
   * strings inline where the store it came from writes them by number.
   */
  private restoreHot(hot: Float64Array, at: (key: number) => number | undefined): void {
    for (let k = 0; k + 2 < hot.length; k += 3) {
      const i = at(hot[k]!);
      if (i === undefined || this.hot.has(i)) continue;
      const h = this.addHot(i, this.decodeInto(i, this.pool.pop() ?? new CustomerState()), true);
      h.ref = hot[k + 1] === 1;
      h.skew = hot[k + 2]! - this.recordBytes(i);
      this.hotSkew += h.skew;
    }
  }
}
