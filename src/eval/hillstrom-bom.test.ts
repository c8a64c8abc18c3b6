// A Hillstrom CSV saved with a UTF-8 byte-order mark (Excel's "CSV UTF-8", many editors) is read like
// the same file without one: the mark is not part of the first column's name, so the file is not
// refused with "missing column(s) recency" although its header names that column.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHillstrom, readHillstrom } from "./hillstrom.ts";

const ARMS = ["Mens E-Mail", "Womens E-Mail", "No E-Mail"];
const CSV =
  "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend\r\n" +
  '2,"7) $1,000 +",1200.5,1,1,Urban,0,Web,Mens E-Mail,1,1,88.5\r\n' +
  "10,1) $0 - $100,29.99,0,1,Rural,1,Phone,No E-Mail,0,0,0\r\n";

const dir = mkdtempSync(join(tmpdir(), "ps-hillstrom-bom-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a Hillstrom CSV with a byte-order mark", () => {
  it("parses as the same rows as without the mark", () => {
    expect(parseHillstrom(`\uFEFF${CSV}`, "spend", ARMS)).toEqual(parseHillstrom(CSV, "spend", ARMS));
  });

  it("reads from a file starting with the bytes EF BB BF", () => {
    const f = join(dir, "bom.csv");
    writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV)]));
    const log = readHillstrom(f, "visit", ARMS);
    expect(log.rows.map((r) => [r.ctx.recency, r.arm, r.outcome])).toEqual([
      [2, "Mens E-Mail", 1],
      [10, "No E-Mail", 0],
    ]);
  });
});
