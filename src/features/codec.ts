// A customer's state as a compact byte record, and back: what the feature store keeps for every
// customer not in its hot set, and what checkpoints copy. Every field of CustomerState round-trips
// exactly (held by codec.test.ts on random customers), so the features, caps and decision points
// computed on a decoded customer are those of the object it was written from.
//
// Times are written relative to the customer's last event and bucket indices relative to that
// event's bucket, so most numbers take one or two bytes: a customer with a visit's worth of events
// takes ~60–100 bytes where the object form took ~2.9 KB.
import { CHANNELS, type Channel } from "../events/index.ts";
import type { ByteReader, ByteWriter } from "./bytes.ts";
import { CustomerState, type VisitState } from "./customer.ts";
import type { StringTable } from "./strings.ts";
import { WINDOW_CELLS, WINDOW_CELL_WIDTH_MS, WINDOW_INDEX_CELLS } from "./windows.ts";

const F_WINDOWS = 1;
const F_CART = 2;
const F_CATS = 4;
const F_OFFERS = 8;
const F_VISITS = 16;
const F_OUTCOMES = 32;
const F_COUNTS = 64;
const F_PURCHASED = 128;
/** The last event's time is written relative to this (2020-01-01): one byte less than since 1970. */
const EPOCH_MS = Date.UTC(2020, 0, 1);

/** The cells that differ from a fresh window (their positions), filled by one pass per encode. */
const windowScratch = new Int32Array(WINDOW_CELLS);
/** Counted types per slot: the counts of slot s are cells WINDOW_INDEX_CELLS + s × WINDOW_TYPES + type. */
const WINDOW_TYPES = WINDOW_CELLS / WINDOW_INDEX_CELLS - 1;

export function encodeCustomer(c: CustomerState, w: ByteWriter, strings: StringTable): void {
  const d = c.windows.data;
  // The cells to write (the record gives their count first): the slots that hold a bucket, then the
  // counts of those slots only. A slot without a bucket has no counts (WindowCounts.add zeroes a
  // slot's counts when it takes a bucket, and a count is read only through its slot's bucket), so
  // ~60 of the 220 cells are looked at for a typical customer; testing every cell was ~30% of an encode.
  const at = windowScratch;
  let slots = 0;
  for (let i = 0; i < WINDOW_INDEX_CELLS; i++) if (d[i] !== -1) at[slots++] = i;
  let windowCells = slots;
  for (let k = 0; k < slots; k++) {
    const first = WINDOW_INDEX_CELLS + at[k]! * WINDOW_TYPES;
    for (let i = first; i < first + WINDOW_TYPES; i++) if (d[i] !== 0) at[windowCells++] = i;
  }
  let offerMask = 0;
  for (let k = 0; k < CHANNELS.length; k++) if (c.offers[CHANNELS[k]!] !== undefined) offerMask |= 1 << k;
  const flags =
    (windowCells ? F_WINDOWS : 0) |
    (c.cartLines.length ? F_CART : 0) |
    (c.cats.length ? F_CATS : 0) |
    (offerMask ? F_OFFERS : 0) |
    (c.visitLog.length ? F_VISITS : 0) |
    (c.untreated || c.untreatedConverted || c.treated || c.treatedConverted ? F_OUTCOMES : 0) |
    (c.purchases || c.promoPurchases || c.visits ? F_COUNTS : 0) |
    (c.lastPurchaseMs !== 0 ? F_PURCHASED : 0);
  const e = c.lastEventMs;
  w.byte(flags);
  w.num(e - EPOCH_MS);
  w.num(c.firstSeenMs - e);
  if (flags & F_PURCHASED) w.num(c.lastPurchaseMs - e);
  w.num(c.cartValueCents);
  if (flags & F_COUNTS) {
    w.num(c.purchases);
    w.num(c.promoPurchases);
    w.num(c.visits);
  }
  if (flags & F_OUTCOMES) {
    w.num(c.untreated);
    w.num(c.untreatedConverted);
    w.num(c.treated);
    w.num(c.treatedConverted);
  }
  if (flags & F_WINDOWS) {
    w.uvar(windowCells);
    let last = -1;
    let width = 0;
    let bucket = 0;
    for (let k = 0; k < windowCells; k++) {
      const i = at[k]!;
      w.uvar(i - last - 1);
      if (i < WINDOW_INDEX_CELLS) {
        // The last event's bucket at this cell's level (three levels: computed when the width changes).
        const wd = WINDOW_CELL_WIDTH_MS[i]!;
        if (wd !== width) bucket = Math.floor(e / (width = wd));
        w.num(d[i]! - bucket);
      } else w.num(d[i]!);
      last = i;
    }
  }
  if (flags & F_CART) {
    w.uvar(c.cartLines.length);
    for (const l of c.cartLines) {
      w.num(l.ts - e);
      w.num(l.cents);
    }
  }
  if (flags & F_CATS) {
    w.uvar(c.cats.length);
    for (let i = 0; i < c.cats.length; i++) {
      strings.write(w, c.cats[i]!);
      w.num(c.catCounts[i]!);
    }
  }
  if (flags & F_OFFERS) {
    w.byte(offerMask);
    for (let k = 0; k < CHANNELS.length; k++) {
      const list = c.offers[CHANNELS[k]!];
      if (!list) continue;
      w.uvar(list.length);
      for (const t of list) w.num(t - e);
    }
  }
  if (flags & F_VISITS) {
    w.uvar(c.visitLog.length);
    for (const v of c.visitLog) {
      w.str(v.key);
      w.uvar(v.products.length);
      for (let i = 0; i < v.products.length; i++) {
        strings.write(w, v.products[i]!);
        w.num(v.views[i]!);
      }
      w.uvar(v.decided.length);
      for (const p of v.decided) strings.write(w, p);
    }
  }
}

/** Reads a record into `c` (every field is overwritten, so a pooled object can be reused). */
export function decodeCustomer(r: ByteReader, strings: StringTable, c: CustomerState = new CustomerState()): CustomerState {
  const flags = r.byte();
  const e = r.num() + EPOCH_MS;
  c.lastEventMs = e;
  c.firstSeenMs = r.num() + e;
  c.lastPurchaseMs = flags & F_PURCHASED ? r.num() + e : 0;
  c.cartValueCents = r.num();
  if (flags & F_COUNTS) {
    c.purchases = r.num();
    c.promoPurchases = r.num();
    c.visits = r.num();
  } else c.purchases = c.promoPurchases = c.visits = 0;
  if (flags & F_OUTCOMES) {
    c.untreated = r.num();
    c.untreatedConverted = r.num();
    c.treated = r.num();
    c.treatedConverted = r.num();
  } else c.untreated = c.untreatedConverted = c.treated = c.treatedConverted = 0;
  const d = c.windows.data;
  d.fill(-1, 0, WINDOW_INDEX_CELLS).fill(0, WINDOW_INDEX_CELLS);
  if (flags & F_WINDOWS) {
    const n = r.uvar();
    let i = -1;
    for (let k = 0; k < n; k++) {
      i += r.uvar() + 1;
      if (i >= WINDOW_CELLS) throw new RangeError(`window cell ${i} is outside 0…${WINDOW_CELLS - 1}`);
      d[i] = i < WINDOW_INDEX_CELLS ? r.num() + Math.floor(e / WINDOW_CELL_WIDTH_MS[i]!) : r.num();
    }
  }
  // Into the object's own arrays and visit objects: a pooled customer is decoded at every miss of the
  // hot set, and new arrays there lived as long as the customer stayed hot (thousands of events), so
  // the young generation's collections copied and promoted them (bench/decide.bench.ts).
  const lines = c.cartLines;
  let nl = 0;
  if (flags & F_CART) {
    nl = r.uvar();
    for (let k = 0; k < nl; k++) {
      const ts = r.num() + e;
      const cents = r.num();
      const l = lines[k];
      if (l) {
        l.ts = ts;
        l.cents = cents;
      } else lines[k] = { ts, cents };
    }
  }
  setLength(lines, nl);
  const cats = c.cats;
  const catCounts = c.catCounts;
  const ncat = flags & F_CATS ? r.uvar() : 0;
  for (let k = 0; k < ncat; k++) {
    cats[k] = strings.read(r);
    catCounts[k] = r.num();
  }
  setLength(cats, ncat);
  setLength(catCounts, ncat);
  const offers = c.offers;
  const mask = flags & F_OFFERS ? r.byte() : 0;
  for (let k = 0; k < CHANNELS.length; k++) {
    const ch = CHANNELS[k] as Channel;
    if (!(mask & (1 << k))) {
      if (offers[ch] !== undefined) offers[ch] = undefined;
      continue;
    }
    const n = r.uvar();
    const list = offers[ch] ?? (offers[ch] = []);
    for (let j = 0; j < n; j++) list[j] = r.num() + e;
    setLength(list, n);
  }
  const log = c.visitLog;
  let nv = 0;
  if (flags & F_VISITS) {
    nv = r.uvar();
    for (let k = 0; k < nv; k++) {
      const key = r.str();
      const v = log[k] ?? (log[k] = { key, products: [], views: [], decided: [] });
      v.key = key;
      const np = r.uvar();
      const products = v.products;
      const views = v.views;
      for (let j = 0; j < np; j++) {
        products[j] = strings.read(r);
        views[j] = r.num();
      }
      setLength(products, np);
      setLength(views, np);
      const nd = r.uvar();
      const decided = v.decided;
      for (let j = 0; j < nd; j++) decided[j] = strings.read(r);
      setLength(decided, nd);
    }
  }
  setLength(log, nv);
  return c;
}

/** Truncates a reused array; setting `length` is a runtime call even when it does not change (3% of a decision). */
function setLength(a: unknown[], n: number): void {
  if (a.length !== n) a.length = n;
}
