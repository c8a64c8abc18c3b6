import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { countLines, readCsv, type CsvItem } from "./csv.ts";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";
import { seedClickstream } from "./seed-clickstream.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = join(dir, `${++n}.csv`);
  writeFileSync(f, text);
  return f;
}
async function all(f: string): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const it of readCsv(f, seedClickstream)) out.push(it);
  return out;
}
const HEADER = "UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome";

describe("readCsv", () => {
  it("gives rows with their line and row numbers, and rows of the wrong width as bad rows", async () => {
    const items = await all(
      file(`\uFEFF${HEADER}\r\n1,1,2024-01-01 00:00:00,login,,,\r\n\r\n1,1,2024-01-01 00:00:01,page_view,,\r\n1,1,2024-01-01 00:00:02,click,"p,1",,,x\r\n2,1,2024-01-01 00:00:03,logout,,,\r\n`),
    );
    expect(items.map((i) => (i.kind === "row" ? `row ${i.row.index}@${i.row.line}` : `bad@${i.line}: ${i.reason}`))).toEqual([
      "row 1@2",
      "bad@4: 6 fields, expected 7",
      "bad@5: 8 fields, expected 7",
      "row 2@6",
    ]);
    const first = items[0]!;
    expect(first.kind === "row" && first.row.raw).toBe("1,1,2024-01-01 00:00:00,login,,,");
  });

  it("reports what the parser cannot read (a stray or unclosed quote) as bad rows instead of failing", async () => {
    const items = await all(file(`${HEADER}\n1,1,2024-01-01 00:00:00,login,,,\n1,1,2024-01-01 00:00:01,cl"ick,,,\n2,1,"2024-01-01 00:00:02,login,,,\n3,1,2024-01-01 00:00:03,login,,,\n`));
    const rows = items.filter((i) => i.kind === "row");
    const bad = items.filter((i) => i.kind === "bad");
    expect(rows).toHaveLength(1);
    expect(bad.length).toBeGreaterThanOrEqual(2);
    expect(bad.every((b) => b.kind === "bad" && /unreadable CSV/.test(b.reason) && b.line >= 3)).toBe(true);
  });

  it("says where an unclosed quote starts and how many lines it took with it to the end of the file", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},1,2024-01-01 00:00:${String(i % 60).padStart(2, "0")},login,,,`);
    rows[9] = `9,1,2024-01-01 00:00:09,"page_view,,,`;
    const items = await all(file(`${HEADER}\n${rows.join("\n")}\n`));
    expect(items.filter((i) => i.kind === "row")).toHaveLength(9);
    const bad = items.filter((i) => i.kind === "bad");
    expect(bad).toHaveLength(1);
    // The header is line 1: the bad row is line 11, and the record runs to the last line (51).
    expect(bad[0]).toMatchObject({ line: 11, reason: expect.stringMatching(/from line 11 to 51: 41 lines not read as rows/) });
  });

  it("refuses a file whose header is not the format's, naming both", async () => {
    const f = file("a,b,c\n1,2,3\n");
    const err = await all(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe(PS_ERR_REPLAY.NotThisFormat);
    expect((err as Error).message).toContain('header is "a,b,c"');
    const empty = await all(file("")).catch((e: unknown) => e);
    expect((empty as ReplayError).code).toBe(PS_ERR_REPLAY.NotThisFormat);
  });

  it("counts lines with or without a final newline", async () => {
    expect(await countLines(file("a\nb\nc\n"))).toBe(3);
    expect(await countLines(file("a\nb\nc"))).toBe(3);
    expect(await countLines(file(""))).toBe(0);
  });
});
