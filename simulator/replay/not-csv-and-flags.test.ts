// `npm run simulator -- replay`: a JSON-lines log given to a CSV format is refused as "does not look like
// a <format> log" naming its first line (it was called empty, after counting every line as a malformed
// row); a flag given twice is refused (the last one silently won: `--format segment --format hillstrom`
// replayed as hillstrom); `--speed FILE` (the file taken as the speed) names the speed, not "FILE is missing".
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseReplayArgs } from "./cli.ts";
import { readCsv, type CsvItem } from "./csv.ts";
import { PS_ERR_REPLAY } from "./errors.ts";
import { hillstrom } from "./hillstrom.ts";
import { seedClickstream } from "./seed-clickstream.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-replay-not-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEGMENT_LINES =
  '{"type":"track","event":"Product Viewed","messageId":"s-1","userId":"c-1","timestamp":"2024-07-07T18:00:00Z","properties":{"product_id":"sku-001","price":26.49}}\n' +
  '{"type":"identify","userId":"c-1","messageId":"s-2","timestamp":"2024-07-07T18:00:06Z"}\n';

describe("a JSON-lines file given to a CSV format", () => {
  it.each([hillstrom, seedClickstream])("%s: refused as not this format, naming the first line, with no rows given out", async (format) => {
    const f = join(dir, `${format.name}.jsonl`);
    writeFileSync(f, SEGMENT_LINES);
    const items: CsvItem[] = [];
    const err = await (async () => {
      for await (const it of readCsv(f, format)) items.push(it);
    })().then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe(PS_ERR_REPLAY.NotThisFormat);
    expect(err?.message).toMatch(new RegExp(`does not look like a ${format.name} log: its first line cannot be read as CSV`));
    expect(err?.message).not.toMatch(/is empty/);
    expect(items).toEqual([]);
  });
});

describe("parseReplayArgs", () => {
  it.each([
    [["--format", "segment", "--format", "hillstrom", "log.jsonl"], /--format is given 2 times \('segment', 'hillstrom'\): give it once/],
    [["--format", "segment", "--speed", "1", "--speed", "max", "log.jsonl"], /--speed is given 2 times/],
    [["--format", "segment", "--speed", "log.jsonl"], /--speed must be a positive number or max, got 'log\.jsonl'/],
  ])("%j: a usage error naming the flag", (args, problem) => {
    expect(() => parseReplayArgs(args)).toThrow(problem);
  });

  it("a well-formed command line still parses", () => {
    expect(parseReplayArgs(["--format", "segment", "--speed", "2", "log.jsonl"])).toMatchObject({ format: "segment", speed: 2, file: "log.jsonl" });
  });
});
