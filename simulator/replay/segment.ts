// A shop's own tracking log, Segment e-commerce spec v2: one JSON a line, a call
// (`{"type": "track", "event": "Product Viewed", …}`) or a batch (`{"batch": [...]}`, as Segment's HTTP
// batch endpoint takes it). Each call is mapped as POST /api/track maps it (src/events/segment.ts):
// mapped calls become events (id = messageId, so a re-run is deduplicated by JetStream), the others
// are counted, ignored by kind or rejected by reason, and the fields the contract cannot hold are
// counted by name. One difference from /api/track: a call without a timestamp is rejected
// (missing-timestamp), since a log has no present to stamp it with.
import { mapSegment, tallySegment, type ShopEvent } from "../../src/events/index.ts";
import { MIN_TS, show, type CsvRow, type ReplayFormat, type RowResult } from "./format.ts";

export const segment: ReplayFormat = {
  name: "segment",
  summary: 'Segment e-commerce spec v2 calls, one JSON a line: a call or a batch ({"batch": [...]})',
  input: "jsonl",
  columns: [],
  // Every call carries its own time; unused.
  defaultStartMs: MIN_TS,
  createMapper({ maxEventBytes }) {
    const opts = { requireTimestamp: true, ...(maxEventBytes !== undefined ? { maxEventBytes } : {}) };
    return (row: CsvRow): RowResult => {
      let value: unknown;
      try {
        value = JSON.parse(row.raw);
      } catch (err) {
        return { kind: "malformed", reason: `not JSON: ${(err as Error).message.slice(0, 120)} in ${show(row.raw)}` };
      }
      // nowMs is never used: requireTimestamp rejects a call that would need it.
      const results = mapSegment(value, 0, opts);
      const events: ShopEvent[] = [];
      const rejections: { reason: string; detail: string }[] = [];
      for (const r of results) {
        if (r.status === "mapped") events.push(r.event);
        else if (r.status === "rejected") rejections.push({ reason: r.reason, detail: `${r.messageId !== undefined ? `messageId ${show(r.messageId)}: ` : ""}${r.detail}` });
      }
      return { kind: "events", events, calls: { tally: tallySegment(results), rejections } };
    };
  },
};
