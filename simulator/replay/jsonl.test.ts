import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";
import { readJsonLines } from "./jsonl.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-jsonl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const all = async (file: string) => {
  const out = [];
  for await (const x of readJsonLines(file)) out.push(x);
  return out;
};

describe("readJsonLines", () => {
  it("gives each non-blank line as a row with its line number, CRLF and a BOM taken off", async () => {
    const f = join(dir, "a.jsonl");
    writeFileSync(f, '\uFEFF{"a":1}\r\n\n   \n{"b":2}\nnot json\n');
    expect(await all(f)).toEqual([
      { kind: "row", row: { line: 1, index: 1, fields: ['{"a":1}'], raw: '{"a":1}' } },
      { kind: "row", row: { line: 4, index: 2, fields: ['{"b":2}'], raw: '{"b":2}' } },
      { kind: "row", row: { line: 5, index: 3, fields: ["not json"], raw: "not json" } },
    ]);
  });

  it("reads a last line without a newline, and an empty file as no rows", async () => {
    const f = join(dir, "b.jsonl");
    writeFileSync(f, '{"a":1}');
    expect((await all(f)).map((x) => x.kind === "row" && x.row.raw)).toEqual(['{"a":1}']);
    writeFileSync(f, "");
    expect(await all(f)).toEqual([]);
  });

  it("fails with FileUnreadable for a file that is not there", async () => {
    const err = await all(join(dir, "missing.jsonl")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe(PS_ERR_REPLAY.FileUnreadable);
  });
});
