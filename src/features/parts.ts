// The feature store's checkpoint parts (issue #16): a delta (what changed in one epoch) and a base
// (every customer), each written beside the processor's loop as a stream of frames into chunks, and
// applied back frame by frame. A frame is a type byte and a self-delimiting body:
//
//   h  header: format version, clock, counters, recency stamp counter, the stamp the delta's epoch
//      began after (−1 in a base), and (since version 2) the id index's size
//   k  hot set (a delta's, since version 2): the customers decoded between events, in the order the
//      store trims them, each by recency stamp with its use bit and the record bytes counted for it
//   m  offer memory: a customer's remembered offers, or their removal
//   x  removal: a customer id gone in the epoch
//   r  record: recency stamp, TTL start, the customer's record (id and state, codec.ts)
//   s  strings: the string table from an index on
//
// A delta restores the LRU order exactly: its records stamped after the previous capture moved to the
// most recent end in the epoch, so they are linked there in stamp order; the others changed in place.
// A base is fuzzy (written while the loop goes on) and restores exactly only followed by the delta
// captured next (see FeatureStore.beginBase).
//
// The index's size and the hot set are what the store's memory bound counts beyond the records
// (FeatureStore.memoryBytes): with them a restored store evicts what the store it came from would
// have. A version 1 part lacks them; it restores as before, and the next delta carries them.
import { ByteReader, ByteWriter } from "./bytes.ts";
import { FeaturesError, PS_ERR_FEATURES } from "./errors.ts";
import type { CustomerState } from "./customer.ts";
import { FeatureStore, type FeatureStoreOptions } from "./store.ts";

export const FRAME = { header: 0x68, hot: 0x6b, memory: 0x6d, removed: 0x78, record: 0x72, strings: 0x73 } as const;

/** The format of the parts this build writes (in the header frame); it reads 1 too. */
export const PART_VERSION = 2;
/** The formats this build reads. */
export const READABLE_PART_VERSIONS: readonly number[] = [1, PART_VERSION];

export interface PartHeader {
  nowMs: number;
  evictions: number;
  expirations: number;
  sweepAt: number;
  stampCounter: number;
  /** Records stamped after this moved in the delta's epoch; −1 in a base. */
  sinceStamp: number;
  /** Slots of the id index (absent from version 1 parts). */
  tableSize?: number | undefined;
}

export interface TakenRecord {
  rec: Uint8Array;
  stamp: number;
  start: number;
  mark: number;
}

interface Remembered {
  offers: CustomerState["offers"];
  newestMs: number;
}

const CHANNEL_ORDER = ["web", "email", "sms", "push"] as const;

/**
 * Frames into chunks of about `chunkBytes`: a part of 100 MB is never one buffer (no copy of it all,
 * no doubling), and each chunk can be stored as it is sealed.
 */
export class PartSink {
  readonly w: ByteWriter;
  private chunks: Uint8Array[] = [];
  /** Bytes sealed so far. */
  bytes = 0;

  constructor(readonly chunkBytes = 512 * 1024) {
    this.w = new ByteWriter(chunkBytes + 64 * 1024);
  }

  /** Call after each frame: seals the chunk once it is full. */
  endFrame(): void {
    if (this.w.len >= this.chunkBytes) this.seal();
  }

  /**
   * Seals what was written as chunks of at most `chunkBytes` (a frame larger than a chunk, such as the
   * engine's small state with a large catalogue, is cut across chunks: a reader joins them first).
   */
  seal(): void {
    if (this.w.len === 0) return;
    const all = this.w.view();
    for (let at = 0; at < all.length; at += this.chunkBytes) this.chunks.push(all.slice(at, Math.min(all.length, at + this.chunkBytes)));
    this.bytes += this.w.len;
    this.w.reset();
  }

  /** The chunks sealed since the last call (the sink forgets them). */
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

function writeHeader(w: ByteWriter, h: PartHeader): void {
  w.byte(FRAME.header);
  w.uvar(PART_VERSION);
  w.num(h.nowMs);
  w.num(h.evictions);
  w.num(h.expirations);
  w.num(h.sweepAt);
  w.num(h.stampCounter);
  w.num(h.sinceStamp);
  w.uvar(h.tableSize!);
}

/** The hot set: (stamp, used since the last trim, record bytes counted) per customer, in trim order. */
function writeHotFrame(w: ByteWriter, hot: Float64Array): void {
  w.byte(FRAME.hot);
  w.uvar(hot.length / 3);
  for (let k = 0; k < hot.length; k += 3) {
    w.num(hot[k]!);
    w.byte(hot[k + 1]!);
    w.uvar(hot[k + 2]!);
  }
}

export function writeRecordFrame(w: ByteWriter, stamp: number, start: number, rec: Uint8Array): void {
  w.byte(FRAME.record);
  w.num(stamp);
  w.num(start);
  w.uvar(rec.length);
  w.bytes(rec);
}

function writeMemoryFrame(w: ByteWriter, key: string, m: Remembered | undefined): void {
  w.byte(FRAME.memory);
  w.str(key);
  if (!m) {
    w.byte(0);
    return;
  }
  w.byte(1);
  let mask = 0;
  for (let c = 0; c < CHANNEL_ORDER.length; c++) if (m.offers[CHANNEL_ORDER[c]!]) mask |= 1 << c;
  w.byte(mask);
  for (let c = 0; c < CHANNEL_ORDER.length; c++) {
    const list = m.offers[CHANNEL_ORDER[c]!];
    if (!list) continue;
    w.uvar(list.length);
    for (const t of list) w.num(t);
  }
  w.num(m.newestMs);
}

function writeStringsFrame(w: ByteWriter, from: number, strings: readonly string[]): void {
  w.byte(FRAME.strings);
  w.uvar(from);
  w.uvar(strings.length);
  for (const s of strings) w.str(s);
}

export interface DeltaHead extends PartHeader {
  epoch: number;
  dirty: Int32Array;
  removed: string[];
  memory: [string, Remembered | undefined][];
  /** The hot set at the capture (see writeHotFrame). */
  hot: Float64Array;
}

/**
 * The changes of one epoch, written beside the loop. Customers changed in the epoch are written as
 * they were at the capture: those not changed since from the store, those changed since from the copy
 * `take` made just before they changed.
 */
export class StoreDelta {
  readonly epoch: number;
  private next = 0;
  private started = false;
  private readonly taken = new Map<number, TakenRecord>();
  private readonly seen = new Set<number>();
  private finished = false;
  private ended = false;
  /** Customers written. */
  customers = 0;

  constructor(
    private readonly store: FeatureStore,
    private readonly head: DeltaHead,
  ) {
    this.epoch = head.epoch;
    if (head.dirty.length === 0) this.finish();
  }

  /** All customers written (what remains is the closing frames, written by the last `step`). */
  get done(): boolean {
    return this.finished;
  }

  /** Every frame written (the strings frame last). */
  get complete(): boolean {
    return this.ended;
  }

  /**
   * The checkpoint it belongs to failed: the store stops keeping records for it and may capture the
   * next delta (that checkpoint starts a new chain from a base, which holds everything this one did).
   */
  abandon(): void {
    this.ended = true;
    this.finish();
  }

  /** Customer i is about to change: keep it as it is (once). */
  take(i: number): void {
    if (this.finished || this.taken.has(i)) return;
    this.taken.set(i, this.store.recordNow(i));
  }

  /** Writes frames into the sink until `shouldYield` says stop (asked after each customer); true when the part is complete. */
  step(sink: PartSink, shouldYield: () => boolean): boolean {
    const w = sink.w;
    if (!this.started) {
      this.started = true;
      writeHeader(w, this.head);
      writeHotFrame(w, this.head.hot);
      for (const [k, m] of this.head.memory) writeMemoryFrame(w, k, m);
      for (const id of this.head.removed) {
        w.byte(FRAME.removed);
        w.str(id);
        sink.endFrame();
      }
      sink.endFrame();
    }
    const dirty = this.head.dirty;
    while (this.next < dirty.length) {
      const i = dirty[this.next++]!;
      if (this.seen.has(i)) continue;
      const t = this.taken.get(i);
      if (t) {
        this.seen.add(i);
        this.taken.delete(i);
        writeRecordFrame(w, t.stamp, t.start, t.rec);
        this.customers++;
      } else if (this.store.markAt(i) === this.epoch) {
        this.seen.add(i);
        this.store.writeRecordNow(i, w);
        this.customers++;
      } else continue;
      sink.endFrame();
      if (shouldYield()) return false;
    }
    this.finish();
    if (!this.ended) {
      this.ended = true;
      const { from, strings } = this.store.takeStrings();
      writeStringsFrame(w, from, strings);
      sink.seal();
    }
    return true;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.taken.clear();
    this.store.partDone(this);
  }
}

/**
 * Every customer, from least to most recently used as a walk finds them while the loop goes on
 * (fuzzy; see FeatureStore.beginBase). The walk's cursor steps past a customer that moves or goes.
 */
export class StoreBase {
  private cursor: number;
  private started = false;
  private finished = false;
  private ended = false;
  customers = 0;

  constructor(
    private readonly store: FeatureStore,
    head: number,
    /**
     * The delta captured with it: the base writes nothing until that delta is complete, so the strings
     * the base ends with cover all the delta's, and the next delta carries only strings added after.
     */
    private readonly after: StoreDelta | undefined,
  ) {
    this.cursor = head;
    if (head < 0) this.finish();
  }

  get done(): boolean {
    return this.finished;
  }

  /** The checkpoint it belongs to failed: the store may begin another base. */
  abandon(): void {
    this.ended = true;
    this.finish();
  }

  /** Customer i is about to move or go: if it is the walk's cursor, step past it. */
  leaving(i: number): void {
    if (i === this.cursor) this.cursor = this.store.nextIndex(i);
  }

  step(sink: PartSink, shouldYield: () => boolean): boolean {
    if (this.after && !this.after.complete) return false;
    const w = sink.w;
    if (!this.started) {
      this.started = true;
      writeHeader(w, this.store.header());
      sink.endFrame();
    }
    while (this.cursor >= 0) {
      const i = this.cursor;
      this.cursor = this.store.nextIndex(i);
      this.store.writeRecordNow(i, w);
      this.customers++;
      sink.endFrame();
      if (shouldYield()) return false;
    }
    this.finish();
    if (!this.ended) {
      this.ended = true;
      for (const [k, m] of this.store.memoryNow()) {
        writeMemoryFrame(w, k, m);
        sink.endFrame();
      }
      writeStringsFrame(w, 0, this.store.baseStrings());
      sink.seal();
    }
    return true;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.store.partDone(this);
  }
}

/** Applies a part's frames to a store being restored. */
export class StoreApplier {
  private head: PartHeader | undefined;
  private hot: Float64Array | undefined;
  private readonly later: { i: number; stamp: number }[] = [];

  constructor(private readonly store: FeatureStore) {}

  /** Applies one frame if it is the store's (its type byte already read); false when it is not. */
  frame(type: number, r: ByteReader): boolean {
    const s = this.store;
    switch (type) {
      case FRAME.header: {
        const version = r.uvar();
        // A typed error, not a RangeError: a newer build's part is no damage, and the processor's start
        // says so with the way out (it went out as a bare "not supported", naming no bucket or fix).
        if (!READABLE_PART_VERSIONS.includes(version))
          throw new FeaturesError(PS_ERR_FEATURES.PartVersion, `feature store part version ${version} is not supported (this build reads ${READABLE_PART_VERSIONS.join(" and ")})`, { version, readable: READABLE_PART_VERSIONS });
        this.head = { nowMs: r.num(), evictions: r.num(), expirations: r.num(), sweepAt: r.num(), stampCounter: r.num(), sinceStamp: r.num() };
        if (version >= 2) this.head.tableSize = r.uvar();
        if (this.head.sinceStamp < 0) s.memoryClear();
        return true;
      }
      case FRAME.hot: {
        const n = r.uvar();
        const hot = new Float64Array(3 * n);
        for (let k = 0; k < hot.length; k += 3) {
          hot[k] = r.num();
          hot[k + 1] = r.byte();
          hot[k + 2] = r.uvar();
        }
        this.hot = hot;
        return true;
      }
      case FRAME.memory: {
        const key = r.str();
        if (r.byte() === 0) {
          s.memorySet(key, undefined);
          return true;
        }
        const offers: CustomerState["offers"] = {};
        const mask = r.byte();
        for (let c = 0; c < CHANNEL_ORDER.length; c++) {
          if (!(mask & (1 << c))) continue;
          const n = r.uvar();
          const list: number[] = [];
          for (let j = 0; j < n; j++) list.push(r.num());
          offers[CHANNEL_ORDER[c]!] = list;
        }
        s.memorySet(key, { offers, newestMs: r.num() });
        return true;
      }
      case FRAME.removed:
        s.detachId(r.str());
        return true;
      case FRAME.record: {
        if (!this.head) throw new RangeError("a feature store record frame before the part's header");
        const stamp = r.num();
        const start = r.num();
        const rec = r.bytes(r.uvar());
        if (this.head.sinceStamp < 0) s.putRecord(stamp, start, rec, "end");
        else if (stamp > this.head.sinceStamp) this.later.push({ i: s.putRecord(stamp, start, rec, "later"), stamp });
        else s.putRecord(stamp, start, rec, "inPlace");
        return true;
      }
      case FRAME.strings: {
        const from = r.uvar();
        const n = r.uvar();
        const strings: string[] = [];
        for (let k = 0; k < n; k++) strings.push(r.str());
        s.extendStrings(from, strings);
        return true;
      }
      default:
        return false;
    }
  }

  /** The part is over: the customers that moved in its epoch go to the end, in the order they moved. */
  finish(): void {
    if (!this.head) throw new RangeError("a feature store part without a header");
    this.later.sort((a, b) => a.stamp - b.stamp);
    this.store.linkAll(this.later.map((x) => x.i));
    this.store.setHeader(this.head, this.hot);
  }
}

/** Writes a whole part at once (tests, the bench, a stop). */
export function writeWhole(part: StoreDelta | StoreBase, sink = new PartSink()): Uint8Array {
  part.step(sink, () => false);
  sink.seal();
  return concat(sink.take());
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A store from feature-store parts alone (a base or none, then deltas), for tests and the bench. */
export function restoreStore(opts: FeatureStoreOptions, parts: readonly Uint8Array[]): FeatureStore {
  const store = new FeatureStore(opts);
  const r = new ByteReader();
  for (const p of parts) {
    const a = new StoreApplier(store);
    r.reset(p);
    while (!r.done) {
      const type = r.byte();
      if (!a.frame(type, r)) throw new RangeError(`unknown frame type ${type} at byte ${r.pos - 1}`);
    }
    a.finish();
  }
  store.restored();
  return store;
}
