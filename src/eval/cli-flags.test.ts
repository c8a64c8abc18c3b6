// `npm run eval` refuses a command line it would otherwise run differently from what was typed, with
// exit status 2 and the flag named, before reading anything: the flags of --data/--sim given to --logs
// or --export-logs (they were ignored without a word: `--logs … --baseline never` ran no baseline), a
// flag given twice (`--seeds 1 --seeds 50` silently ran 50), and `--export-logs ""` (reported as a
// missing --out).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./cli.ts";

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const code = await main(argv, { err: (l) => lines.push(l) });
  return { code, err: lines.join("\n") };
}

describe("npm run eval: flags that would not do what they say", () => {
  it.each([
    [["--logs", "--logs-file", "/nonexistent/shop.jsonl", "--candidate", "/nonexistent/c.json", "--out", "/tmp/ps-never", "--baseline", "never"], /--baseline belongs to --data or --sim, not to --logs/],
    [["--logs", "--logs-file", "/nonexistent/shop.jsonl", "--candidate", "/nonexistent/c.json", "--out", "/tmp/ps-never", "--seeds", "7", "--metric", "spend"], /--metric, --seeds belong to --data or --sim, not to --logs/],
    [["--export-logs", "/nonexistent/x.jsonl", "--scenario", "steady"], /--scenario belongs to --data or --sim, not to --export-logs/],
    [["--export-logs", ""], /--export-logs needs a FILE/],
    [["--data", "/nonexistent/h.csv", "--seeds", "1", "--seeds", "50", "--out", "/tmp/ps-never"], /--seeds is given 2 times \('1', '50'\): give it once/],
    [["--sim", "--sim", "--out", "/tmp/ps-never"], /--sim is given 2 times: give it once/],
  ])("%j: exit 2 naming the flag", async (argv, problem) => {
    const r = await run(...argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(problem);
    expect(r.err).toMatch(/usage:/);
  });

  it("a --candidate whose configuration is invalid is named: of several, the message said which key, not which file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-eval-flags-"));
    writeFileSync(join(dir, "good.json"), JSON.stringify({ bandit: { holdoutShare: 0.2 } }));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ bandit: { holdoutShare: 2 } }));
    const r = await run("--logs", "--logs-file", "/nonexistent/shop.jsonl", "--candidate", join(dir, "good.json"), "--candidate", join(dir, "bad.json"), "--out", join(dir, "out"));
    rmSync(dir, { recursive: true, force: true });
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/--candidate \S*bad\.json: invalid configuration:/);
    expect(r.err).toMatch(/bandit\.holdoutShare/);
  });

  it("--candidate may still be given more than once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-eval-flags-"));
    const r = await run("--logs", "--logs-file", "/nonexistent/shop.jsonl", "--candidate", "/nonexistent/a.json", "--candidate", "/nonexistent/b.json", "--out", join(dir, "out"));
    rmSync(dir, { recursive: true, force: true });
    // It gets as far as reading the first candidate.
    expect(r.err).toMatch(/--candidate \/nonexistent\/a\.json cannot be read/);
  });
});
