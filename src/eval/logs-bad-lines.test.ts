// `npm run eval -- --logs --logs-file FILE` on a file written by --export-logs that was then damaged:
// a byte-order mark on the first line, a line mangled in the middle, a last line cut short (a full
// disk, a copy taken while the export was still writing). Such lines are skipped, counted and named
// by line number, and the evaluation runs on the rest, with the same result as the clean file; a
// file with no log record at all is still refused, naming its first line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { main } from "./cli.ts";
import { readLogFile, writeLogFile } from "./logs.ts";
import { simLog } from "./sim.ts";

let dir: string;
let clean: string;
let lines: string[];
const cfg = loadConfig({ env: {} });
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ps-logs-bad-lines-"));
  clean = join(dir, "shop.jsonl");
  writeLogFile(simLog(cfg, loadScenario("steady"), 7, 600, 40 * 60_000), clean);
  lines = readFileSync(clean, "utf8").trimEnd().split("\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The clean log with a BOM, line 10 mangled, and one more record cut short at the end. */
function damaged(): string {
  const f = join(dir, "damaged.jsonl");
  const mid = [...lines];
  mid.splice(9, 0, '{"stream":"EVENTS","m":{"id":');
  const cut = lines[lines.length - 1]!.slice(0, 30);
  writeFileSync(f, `\uFEFF${mid.join("\r\n")}\r\n${cut}`);
  return f;
}

describe("readLogFile on a damaged export", () => {
  it("skips and counts the lines that are no record and reads every other one", async () => {
    const good = await readLogFile(clean, cfg);
    const bad = await readLogFile(damaged(), cfg);
    expect(bad.counts.badLines).toBe(2);
    expect(bad.counts.badLineExamples).toEqual([
      { line: 10, reason: "not JSON" },
      { line: lines.length + 2, reason: "not JSON" },
    ]);
    expect({ ...bad.counts, badLines: 0, badLineExamples: [] }).toEqual(good.counts);
    expect(bad.log.events.length).toBe(good.log.events.length);
  });

  it("still refuses a file that holds no record at all, naming its first line", async () => {
    const f = join(dir, "not-a-log.csv");
    writeFileSync(f, "a,b,c\n1,2,3\n");
    await expect(readLogFile(f, cfg)).rejects.toThrow(/not-a-log\.csv line 1: not JSON/);
  });
});

describe("npm run eval -- --logs --logs-file on a damaged export", () => {
  it("exits 0 with the clean file's report and a warning naming the skipped lines", async () => {
    writeFileSync(join(dir, "holdout-30.json"), JSON.stringify({ bandit: { holdoutShare: 0.3 } }));
    const run = async (file: string, out: string) => {
      const errs: string[] = [];
      const code = await main(["--logs", "--logs-file", file, "--candidate", join(dir, "holdout-30.json"), "--out", join(dir, out), "--quiet"], { err: (l) => errs.push(l) });
      return { code, errs, report: code === 0 ? JSON.parse(readFileSync(join(dir, out, "report.json"), "utf8")) : undefined };
    };
    const a = await run(clean, "clean");
    const b = await run(damaged(), "damaged");
    expect(b.code, b.errs.join("\n")).toBe(0);
    expect(b.errs.join("\n")).toMatch(/warning: 2 line\(s\) of .*damaged\.jsonl are no log record and were skipped: line 10 \(not JSON\), line \d+ \(not JSON\)/);
    expect(b.report.logged).toEqual(a.report.logged);
  });
});
