// `npm run eval -- --logs`: after the log is read, each candidate costs two passes of the engine over
// every event (its estimates, then the replay method), and the logged policy one more: 57 s for three
// candidates on five minutes of a shop at 100× (README, "What if?"), in which nothing was printed
// between "log: …" and the results. Each pass now says when it is done, and --quiet still silences them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { loadScenario } from "../../simulator/world/index.ts";
import { main } from "./cli.ts";
import { writeLogFile } from "./logs.ts";
import { simLog } from "./sim.ts";

// Two-minute attribution windows: the log's decisions close within its 8-minute tail (plus 5 minutes' lateness).
const WINDOWS = { attribution: { windowSecByChannel: { web: 120, email: 120, sms: 120, push: 120 } } };
let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ps-whatif-progress-"));
  file = join(dir, "shop.jsonl");
  writeFileSync(join(dir, "logged.json"), JSON.stringify(WINDOWS));
  writeLogFile(simLog(loadConfig({ env: {}, overrides: WINDOWS }), loadScenario("steady"), 7, 300, 8 * 60_000), file);
  writeFileSync(join(dir, "holdout-30.json"), JSON.stringify({ bandit: { holdoutShare: 0.3 } }));
  writeFileSync(join(dir, "tabular.json"), JSON.stringify({ bandit: { model: "tabular" } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...extra: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const argv = ["--logs", "--logs-file", file, "--candidate", join(dir, "holdout-30.json"), "--candidate", join(dir, "tabular.json"), "--config", join(dir, "logged.json"), "--out", join(dir, "out"), ...extra];
  const code = await main(argv, { err: (l) => lines.push(l) });
  return { code, lines };
}

describe("npm run eval -- --logs: progress while the candidates run", () => {
  it("says when the logged policy's pass and each candidate's passes are done, before the results", async () => {
    const { code, lines } = await run();
    expect(code, lines.join("\n")).toBe(0);
    const read = lines.findIndex((l) => l.startsWith("[eval] log: "));
    const results = lines.findIndex((l) => / DR \$/.test(l));
    expect(read).toBeGreaterThanOrEqual(0);
    const between = lines.slice(read + 1, results);
    expect(between.some((l) => l.startsWith("[eval] logged policy: "))).toBe(true);
    for (const name of ["holdout-30", "tabular"]) expect(between.filter((l) => l.startsWith(`[eval] ${name}: `)).length, between.join("\n")).toBe(2);
  });

  it("prints none of it with --quiet", async () => {
    const { code, lines } = await run("--quiet");
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.filter((l) => / done in /.test(l))).toEqual([]);
  });
});
