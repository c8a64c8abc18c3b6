// Small things `npm run eval` printed wrong or took silently: "$-0.00" for a tiny negative amount, a worst
// share of the baseline with no value printed as NaN or Infinity, `--scenario ""` running every scenario,
// and `--eval-config` ignored by --logs and --export-logs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { main } from "./cli.ts";
import { whatIfHtml } from "./html.ts";
import { simLog } from "./sim.ts";
import { evaluateCandidates } from "./whatif.ts";

const DIR = mkdtempSync(join(tmpdir(), "ps-eval-output-"));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const code = await main(argv, { err: (l) => lines.push(l) });
  return { code, err: lines.join("\n") };
}

describe("npm run eval: amounts", () => {
  it("never prints $-0.00: a value that rounds to zero cents is $0.00", () => {
    const base = loadConfig({ env: {}, overrides: { attribution: { windowSecByChannel: { web: 300 } }, features: { allowedLatenessSec: 60 } } });
    const report = evaluateCandidates(simLog(base, loadScenario("steady"), 7, 200, 7 * 60_000), base, [{ name: "same", overlay: {}, cfg: base }]);
    const tiny = { ...report, logged: { ...report.logged, value: -0.3, incremental: { ...report.logged.incremental, value: -0.2, ci95: [-0.4, 0.1] as [number, number] } } };
    const html = whatIfHtml(tiny);
    expect(html).not.toContain("$-0.00");
    expect(html).toContain("$0.00 of margin per decision");
  });
});

describe("npm run eval --baseline: a worst share with no value", () => {
  it("prints – and why, not Infinity or NaN (a log too small for 1,000 kept rows)", async () => {
    const lines = ["recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend"];
    const arms = ["Mens E-Mail", "Womens E-Mail", "No E-Mail"];
    for (let i = 0; i < 90; i++) lines.push(`3,"2) $100 - $200",142.44,1,0,Urban,0,Phone,${arms[i % 3]},${i % 4 === 0 ? 1 : 0},0,0`);
    writeFileSync(join(DIR, "small.csv"), `${lines.join("\n")}\n`);
    const r = await run("--data", join(DIR, "small.csv"), "--format", "hillstrom", "--seeds", "1", "--baseline", "Mens E-Mail", "--quiet", "--out", join(DIR, "b"));
    expect(r.code, r.err).toBe(0);
    const line = r.err.split("\n").find((l) => l.includes("worst share"))!;
    expect(line).not.toMatch(/NaN|Infinity/);
    expect(line).toMatch(/engine – \(no checkpoint after 1000 kept rows\)/);
  });
});

describe("npm run eval: flags taken silently", () => {
  it("refuses --scenario \"\" (it ran every scenario), naming the flag", async () => {
    const r = await run("--sim", "--scenario", "", "--decisions", "10", "--quiet", "--out", join(DIR, "s"));
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/--scenario needs a scenario's name, or all/);
  });

  it("refuses --eval-config with --logs and --export-logs, which read no evaluation settings", async () => {
    const a = await run("--logs", "--logs-file", join(DIR, "none.jsonl"), "--candidate", join(DIR, "c.json"), "--eval-config", join(DIR, "e.json"), "--out", join(DIR, "l"));
    expect(a.code, a.err).toBe(2);
    expect(a.err).toMatch(/--eval-config belongs to --data and --sim, not to --logs/);
    const b = await run("--export-logs", join(DIR, "x.jsonl"), "--eval-config", join(DIR, "e.json"));
    expect(b.code, b.err).toBe(2);
    expect(b.err).toMatch(/--eval-config belongs to --data and --sim, not to --export-logs/);
  });
});
