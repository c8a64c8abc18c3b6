// `npm run eval` takes whole numbers only where they are exact and usable: `--decisions 1e20` is a usage
// error naming the flag (it crashed with a RangeError stack trace from the simulator's arrays), and
// `--seed` / `--seeds` / `--min-ess` beyond 2^53 are refused (`--seed 1e20` and `--seed
// 100000000000000000001` silently ran the same seed). Exit status 2, before anything runs.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.ts";

const OUT = join(mkdtempSync(join(tmpdir(), "ps-eval-numbers-")), "out");
afterAll(() => rmSync(join(OUT, ".."), { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const code = await main(argv, { err: (l) => lines.push(l) });
  return { code, err: lines.join("\n") };
}

describe("npm run eval: numbers out of range", () => {
  it.each([
    [["--sim", "--scenario", "steady", "--decisions", "1e20", "--out", OUT], /--decisions must be a positive integer up to 9007199254740991, got '1e20'/],
    [["--sim", "--scenario", "steady", "--decisions", "5000000000", "--out", OUT], /--decisions must be at most 4294967294, got '5000000000'/],
    [["--sim", "--scenario", "steady", "--decisions", "10", "--seed", "100000000000000000001", "--out", OUT], /--seed must be a whole number from 0 up to/],
    [["--sim", "--scenario", "steady", "--decisions", "10", "--seed=-1", "--out", OUT], /--seed must be a whole number from 0 up to/],
    // The world takes its seed modulo 2^32: 4294967303 ran seed 7's world under another name in report.json.
    [["--sim", "--scenario", "steady", "--decisions", "10", "--seed", "4294967303", "--out", OUT], /--seed must be a whole number from 0 up to 4294967295, got '4294967303'/],
    [["--data", "/nonexistent.csv", "--seeds", "1e300", "--out", OUT], /--seeds must be a positive integer up to/],
  ])("%j: exit 2 naming the flag", async (argv, problem) => {
    const r = await run(...argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(problem);
  });
});

describe("npm run eval: --seed 0", () => {
  // The simulator's seed may be 0 (simulator.seed, SIM_SEED, sim.control's {"cmd":"seed","value":0}): the
  // evaluation refused to run that world ("--seed must be a positive integer").
  it("runs the world of seed 0, as SIM_SEED=0 does", async () => {
    const r = await run("--sim", "--scenario", "steady", "--decisions", "20", "--seed", "0", "--quiet", "--out", OUT);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(readFileSync(join(OUT, "report.json"), "utf8")) as { seed: number }).seed).toBe(0);
  });
});
