// Kevin Hillstrom's MineThatData e-mail experiment (../shared/datasets/hillstrom/): one row per
// customer, randomly sent a men's e-mail, a women's e-mail or none, with two weeks of outcome.
//
// Mapping to our events (src/events): every row is a customer who reached a decision point on the
// email channel, whatever the logged arm (No E-Mail is the experiment's control), then visited and
// bought if the row says so:
//   send      at T(row)               channel email, reason "hillstrom:<arm>" (mens-email,
//                                     womens-email, no-email): the logged arm, for whoever reads it
//   visit     at T(row) + 1 h         when visit = 1 (web, sessionId "hs-<row>-1")
//   purchase  at T(row) + 1 h 10 min  when conversion = 1, totalCents = spend; no items (the log
//                                     names no products)
// The log has no clock: T(row) = --start (default 2008-03-01T00:00Z) + (row − 1) s, one send a
// second. Visit and purchase fall well inside the email and web attribution windows (48 h, 30 min)
// so the engine can credit them. customerId = "hs-<row>". The other columns (recency, history, …)
// describe the customer; the contract has no place for them, but they are checked, so a row with
// garbage in them is reported as malformed rather than half-read.
import type { ShopEvent } from "../../src/events/index.ts";
import { parseCents, rowEventId, show, type CsvRow, type ReplayFormat, type RowResult } from "./format.ts";

const COLUMNS = ["recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel", "segment", "visit", "conversion", "spend"] as const;

export const HILLSTROM_ROW_INTERVAL_MS = 1_000;
export const HILLSTROM_VISIT_AFTER_MS = 3_600_000;
export const HILLSTROM_PURCHASE_AFTER_VISIT_MS = 600_000;

const ARMS: Readonly<Record<string, string>> = { "Mens E-Mail": "mens-email", "Womens E-Mail": "womens-email", "No E-Mail": "no-email" };

const flag = (s: string): 0 | 1 | undefined => (s === "0" ? 0 : s === "1" ? 1 : undefined);

export const hillstrom: ReplayFormat = {
  name: "hillstrom",
  summary: "Hillstrom's e-mail experiment CSV (recency,history_segment,…,segment,visit,conversion,spend)",
  columns: COLUMNS,
  defaultStartMs: Date.UTC(2008, 2, 1),
  createMapper({ startMs }) {
    return (row: CsvRow): RowResult => {
      const f = row.fields.map((x) => x.trim());
      const [recency, , history, mens, womens, zip, newbie, channel, segment, visitS, conversionS, spendS] = f as [string, string, string, string, string, string, string, string, string, string, string, string];
      if (!/^\d{1,3}$/.test(recency)) return { kind: "malformed", reason: `recency ${show(recency)} is not a whole number of months` };
      if (parseCents(history) === undefined) return { kind: "malformed", reason: `history ${show(history)} is not a non-negative amount` };
      for (const [name, v] of [["mens", mens], ["womens", womens], ["newbie", newbie]] as const)
        if (flag(v) === undefined) return { kind: "malformed", reason: `${name} ${show(v)} is not 0 or 1` };
      if (!zip || !channel) return { kind: "malformed", reason: "zip_code or channel is empty" };
      const arm = ARMS[segment];
      if (!arm) return { kind: "malformed", reason: `segment ${show(segment)} is none of ${Object.keys(ARMS).join(", ")}` };
      const visit = flag(visitS);
      const conversion = flag(conversionS);
      if (visit === undefined) return { kind: "malformed", reason: `visit ${show(visitS)} is not 0 or 1` };
      if (conversion === undefined) return { kind: "malformed", reason: `conversion ${show(conversionS)} is not 0 or 1` };
      const spend = parseCents(spendS);
      if (spend === undefined) return { kind: "malformed", reason: `spend ${show(spendS)} is not a non-negative amount` };
      if (conversion === 1 && visit === 0) return { kind: "malformed", reason: "conversion = 1 without a visit" };
      if (conversion === 0 && spend > 0) return { kind: "malformed", reason: `spend ${spendS} without a conversion` };
      const customerId = `hs-${row.index}`;
      const sendTs = startMs + (row.index - 1) * HILLSTROM_ROW_INTERVAL_MS;
      const events: ShopEvent[] = [{ type: "send", id: rowEventId("hs", row, "send"), ts: sendTs, customerId, channel: "email", reason: `hillstrom:${arm}` }];
      if (visit === 1) {
        const visitTs = sendTs + HILLSTROM_VISIT_AFTER_MS;
        const sessionId = `${customerId}-1`;
        events.push({ type: "visit", id: rowEventId("hs", row, "visit"), ts: visitTs, customerId, sessionId, channel: "web" });
        if (conversion === 1)
          events.push({ type: "purchase", id: rowEventId("hs", row, "purchase"), ts: visitTs + HILLSTROM_PURCHASE_AFTER_VISIT_MS, customerId, sessionId, totalCents: spend });
      }
      return { kind: "events", events };
    };
  },
};
