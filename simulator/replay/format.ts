// What a replay format is: one module per log format maps the rows of its CSV (or the lines of its
// JSON-lines file) to events of our contract (src/events). Adding a format = one module exporting a
// ReplayFormat, listed in formats.ts.
import { fnv1a32, type SegmentTally, type ShopEvent } from "../../src/events/index.ts";

/** One data row of a CSV log as csv-parse gave it. */
export interface CsvRow {
  /** 1-based line in the file where the row starts (the header is line 1). */
  line: number;
  /** 1-based number of the row among the data rows. */
  index: number;
  fields: string[];
  /** The row's text as in the file (for deterministic ids and for error examples). */
  raw: string;
}

/** A row that holds calls of a tracking API (a Segment batch): what became of each, beyond its events. */
export interface RowCalls {
  tally: SegmentTally;
  /** The rejected calls' reasons and details, for the report's examples. */
  rejections: { reason: string; detail: string }[];
}

export type RowResult =
  | { kind: "events"; events: ShopEvent[]; calls?: RowCalls }
  /** A valid row the contract has no event for (e.g. a logout): counted and reported, not published. */
  | { kind: "skipped"; reason: string }
  /** A row that cannot be mapped faithfully: counted and reported with an example, not published. */
  | { kind: "malformed"; reason: string };

export interface FormatOptions {
  /** Where the log's clock starts, for formats whose rows carry no time (ms since the epoch). */
  startMs: number;
  /** The largest event the processor accepts (processor.maxEventBytes), for formats that check their events themselves. */
  maxEventBytes?: number;
}

export interface ReplayFormat {
  readonly name: string;
  /** One line for --help. */
  readonly summary: string;
  /** How the file is read: a CSV with a header (the default), or JSON lines (one row a line, no header). */
  readonly input?: "csv" | "jsonl";
  /** The header the file must start with, in order (CSV only). */
  readonly columns: readonly string[];
  /** The log clock's start when --start is not given (only formats without timestamps use it). */
  readonly defaultStartMs: number;
  /**
   * A mapper for one pass over one file. It may keep state across rows (seen in file order), so a
   * fresh one is made per replay; it is pure otherwise: no clock, no randomness, no I/O, and the
   * same rows give the same events, ids included, so a re-run is deduplicated by JetStream.
   */
  createMapper(opts: FormatOptions): (row: CsvRow) => RowResult;
}

/** Event time bounds of the contract (src/events/schema.ts Ts): 2000-01-01 … 2100-01-01. */
export const MIN_TS = 946_684_800_000;
export const MAX_TS = 4_102_444_800_000;

/**
 * A deterministic event id for a row: prefix, row number and a hash of the row's text, so a re-run
 * of the same file gives the same ids and a different file (other text on that row) does not.
 */
export function rowEventId(prefix: string, row: CsvRow, suffix?: string): string {
  return `${prefix}-${row.index}-${fnv1a32(row.raw).toString(36)}${suffix ? `-${suffix}` : ""}`;
}

const LOG_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * "2024-07-07 18:00:26.959902" (or ISO-8601 with T and an offset) → ms since the epoch. A time
 * without an offset is read as UTC. Undefined when it is no valid time (an offset past ±23:59 included) or outside the contract's
 * 2000–2100 range; fractions below a millisecond are cut.
 */
export function parseLogTime(s: string): number | undefined {
  const m = LOG_TIME.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, "0")) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0), ms);
  // Date.UTC rolls 2024-02-30 over into March: reject what does not round-trip.
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59)
    return undefined;
  if (zone && zone !== "Z") {
    const z = zone.replace(":", "");
    // As src/events/segment.ts's parseIsoTime: "+99:00" is no offset (it moved the event by four days).
    if (Number(z.slice(1, 3)) > 23 || Number(z.slice(3, 5)) > 59) return undefined;
    const offMin = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * (z[0] === "-" ? -1 : 1);
    t -= offMin * 60_000;
  }
  return t >= MIN_TS && t < MAX_TS ? t : undefined;
}

/** "72.91361870063564" → 7291 cents; undefined for anything but a plain non-negative decimal. */
export function parseCents(s: string): number | undefined {
  const t = s.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  const cents = Math.round(Number(t) * 100);
  return Number.isSafeInteger(cents) && cents <= 1_000_000_000 ? cents : undefined;
}

/** A product id the contract accepts (src/events/schema.ts ProductId). */
export const SKU = /^[A-Za-z0-9._-]{1,64}$/;

/** Quotes a field for an error message, cut short. */
export function show(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
