import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCsv } from "./csv.ts";
import type { CsvRow } from "./format.ts";
import { hillstrom } from "./hillstrom.ts";

const HEADER = "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend";
const start = Date.UTC(2008, 2, 1);
const dir = mkdtempSync(join(tmpdir(), "ps-hillstrom-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rowsOf(text: string): Promise<CsvRow[]> {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, text);
  const out: CsvRow[] = [];
  for await (const it of readCsv(file, hillstrom)) if (it.kind === "row") out.push(it.row);
  return out;
}

describe("hillstrom rows → events", () => {
  it("gives every customer an email decision point, then a visit and a purchase when the row says so", async () => {
    const rows = await rowsOf(
      [
        HEADER,
        '10,"2) $100 - $200",142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0',
        '6,"7) $1,000 +",1329.08,1,1,Rural,1,Web,No E-Mail,1,0,0',
        '9,"6) $750 - $1,000",875.83,1,0,Urban,1,Multichannel,Mens E-Mail,1,1,29.99',
      ].join("\n"),
    );
    expect(rows.map((r) => r.fields[1])).toEqual(["2) $100 - $200", "7) $1,000 +", "6) $750 - $1,000"]);
    const map = hillstrom.createMapper({ startMs: start });
    const events = rows.flatMap((r) => {
      const res = map(r);
      expect(res.kind).toBe("events");
      return res.kind === "events" ? res.events : [];
    });
    const strip = events.map(({ id: _id, ...e }) => e);
    expect(strip).toEqual([
      { type: "send", ts: start, customerId: "hs-1", channel: "email", reason: "hillstrom:womens-email" },
      { type: "send", ts: start + 1000, customerId: "hs-2", channel: "email", reason: "hillstrom:no-email" },
      { type: "visit", ts: start + 1000 + 3_600_000, customerId: "hs-2", sessionId: "hs-2-1", channel: "web" },
      { type: "send", ts: start + 2000, customerId: "hs-3", channel: "email", reason: "hillstrom:mens-email" },
      { type: "visit", ts: start + 2000 + 3_600_000, customerId: "hs-3", sessionId: "hs-3-1", channel: "web" },
      { type: "purchase", ts: start + 2000 + 4_200_000, customerId: "hs-3", sessionId: "hs-3-1", totalCents: 2999 },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it("reports a row that is wrong in any column as malformed, saying which", () => {
    const map = hillstrom.createMapper({ startMs: start });
    const good = ["10", "2) $100 - $200", "142.44", "1", "0", "Surburban", "0", "Phone", "Womens E-Mail", "1", "1", "10.5"];
    const cases: [number, string, RegExp][] = [
      [0, "ten", /recency "ten"/],
      [2, "-5", /history "-5"/],
      [3, "2", /mens "2"/],
      [5, "", /zip_code or channel is empty/],
      [8, "SMS", /segment "SMS" is none of/],
      [9, "yes", /visit "yes"/],
      [10, "", /conversion ""/],
      [11, "n/a", /spend "n\/a"/],
    ];
    for (const [col, value, why] of cases) {
      const fields = [...good];
      fields[col] = value;
      const r = map({ line: 2, index: 1, fields, raw: fields.join(",") });
      expect(r.kind, `${col}=${value}`).toBe("malformed");
      if (r.kind === "malformed") expect(r.reason).toMatch(why);
    }
    const noVisit = [...good];
    noVisit[9] = "0";
    expect(map({ line: 2, index: 1, fields: noVisit, raw: "" })).toEqual({ kind: "malformed", reason: "conversion = 1 without a visit" });
    const spendOnly = [...good];
    spendOnly[10] = "0";
    expect(map({ line: 2, index: 1, fields: spendOnly, raw: "" })).toMatchObject({ kind: "malformed", reason: expect.stringMatching(/without a conversion/) });
  });
});
