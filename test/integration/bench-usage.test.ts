// `npm run bench` with a bad command line (a mistyped flag, a flag without its value, a stray word, a
// --config overlay the configuration refuses) prints what is wrong and the usage, and exits 2 before
// starting anything: no stack trace, no exit status 1 as for a broken benchmark.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bench = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], { cwd: root, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe("npm run bench with a bad command line", () => {
  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["--only"], /'--only <value>' argument missing/],
    [["--quick", "extra"], /Unexpected argument 'extra'/],
  ])("%j: names the problem, prints the usage, exits 2", (args, problem) => {
    const r = bench(...args);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(problem);
    expect(r.out).toMatch(/usage: npm run bench --/);
    expect(r.out).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });

  it("an overlay the configuration refuses: its key and fix, exit 2", () => {
    const r = bench("--config", '{"bandit":{"holdoutShare":5}}', "--only", "throughput");
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/--config: invalid configuration:\n\s+- bandit\.holdoutShare: .*fix:/);
    expect(r.out).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });

  it("--help still prints the usage with the sections and exits 0", () => {
    const r = bench("--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: npm run bench --[\s\S]*throughput/);
  });
});
