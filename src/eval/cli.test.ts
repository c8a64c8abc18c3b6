import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { rngFromSeed } from "../random/index.ts";
import { main } from "./cli.ts";
import { writeLogFile } from "./logs.ts";
import { simLog } from "./sim.ts";
import { loadScenario } from "../../simulator/world/index.ts";

const ARMS = ["Mens E-Mail", "Womens E-Mail", "No E-Mail"];
const SEGS = ["1) $0 - $100", "2) $100 - $200", '"6) $750 - $1,000"', '"7) $1,000 +"'];

/** A log in the Hillstrom format (quoted commas included) with 3,000 rows from a fixed seed. */
function syntheticCsv(rows: number): string {
  const r = rngFromSeed(11);
  const lines = ["recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend"];
  for (let i = 0; i < rows; i++) {
    const arm = ARMS[Math.floor(r.next() * 3)]!;
    const mens = r.next() < 0.55 ? 1 : 0;
    const womens = mens && r.next() < 0.8 ? 0 : 1;
    const p = arm === "No E-Mail" ? 0.1 : arm === "Mens E-Mail" ? (mens ? 0.2 : 0.12) : womens ? 0.18 : 0.1;
    const visit = r.next() < p ? 1 : 0;
    const conversion = visit && r.next() < 0.1 ? 1 : 0;
    const spend = conversion ? (20 + r.next() * 300).toFixed(2) : "0";
    lines.push(
      [1 + Math.floor(r.next() * 12), SEGS[Math.floor(r.next() * SEGS.length)], (30 + r.next() * 900).toFixed(2), mens, womens, ["Urban", "Surburban", "Rural"][Math.floor(r.next() * 3)], r.next() < 0.5 ? 1 : 0, ["Phone", "Web", "Multichannel"][Math.floor(r.next() * 3)], arm, visit, conversion, spend].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

const POLICIES = ["uniform", "engine", "ts", "ts-segmented", "ts-logistic", "epsilon-greedy", "fixed:Mens E-Mail", "fixed:Womens E-Mail", "fixed:No E-Mail"];

describe("npm run eval -- --data … --format hillstrom", () => {
  let dir: string;
  let csv: string;
  const errs: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-eval-"));
    csv = join(dir, "slice.csv");
    writeFileSync(csv, syntheticCsv(3000));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes report.json with the required shape and a self-contained report.html", async () => {
    const code = await main(["--data", csv, "--format", "hillstrom", "--out", join(dir, "out"), "--seeds", "2", "--metric", "visit"], { err: (l) => errs.push(l) });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8"));
    for (const k of ["dataset", "rows", "metric", "seeds", "policies", "uplift"]) expect(r).toHaveProperty(k);
    expect(r).toMatchObject({ dataset: "slice.csv", rows: 3000, metric: "visit", seeds: 2 });
    expect(Object.keys(r.policies).sort()).toEqual([...POLICIES].sort());
    for (const name of POLICIES) {
      const p = r.policies[name];
      expect(typeof p.value).toBe("number");
      expect(p.ci95).toHaveLength(2);
      expect(p.ci95[0]).toBeLessThanOrEqual(p.value);
      expect(p.ci95[1]).toBeGreaterThanOrEqual(p.value);
      expect(Number.isInteger(p.matched)).toBe(true);
    }
    for (const name of ["engine", "ts", "ts-segmented", "ts-logistic"]) {
      expect(r.policies[name].controlShare).toBeGreaterThan(0);
      expect(Number.isInteger(r.policies[name].controlMatched)).toBe(true);
    }
    for (const name of POLICIES.filter((n) => n.startsWith("fixed:"))) {
      expect(typeof r.policies[name].ips.value).toBe("number");
      expect(typeof r.policies[name].snips.value).toBe("number");
    }
    expect(Object.keys(r.uplift).sort()).toEqual(["Mens E-Mail", "Womens E-Mail"]);
    for (const u of Object.values(r.uplift) as { estimate: number; ci95: number[]; experiment: number }[]) {
      expect(typeof u.estimate).toBe("number");
      expect(u.ci95).toHaveLength(2);
      expect(typeof u.experiment).toBe("number");
    }
    const html = readFileSync(join(dir, "out", "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|<link|@import|src=/i);
    // The only URL is the SVG namespace, which is never fetched.
    expect(html.replaceAll("http://www.w3.org/2000/svg", "")).not.toMatch(/https?:\/\//);
    expect(errs.some((l) => l.includes("engine") && l.includes("% of fixed:"))).toBe(true);
  });

  it("gives no verdict against a policy that kept no rows (a log without its arm): its value is not 0", async () => {
    // 40 rows, none of them sent the women's e-mail: "fixed:Womens E-Mail" never matches a row.
    const rows = syntheticCsv(400).split("\n").filter((l, i) => i === 0 || (l !== "" && !l.includes("Womens E-Mail"))).slice(0, 41);
    const small = join(dir, "no-womens.csv");
    writeFileSync(small, rows.join("\n") + "\n");
    const code = await main(["--data", small, "--format", "hillstrom", "--out", join(dir, "no-womens"), "--seeds", "3", "--metric", "visit", "--shuffle"], { err: () => undefined });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "no-womens", "report.json"), "utf8"));
    expect(r.policies["fixed:Womens E-Mail"].matched).toBe(0);
    expect(r.paired["fixed:Womens E-Mail"]).toEqual({ mean: null, ci95: [null, null], verdict: "cannot tell" });
    expect(readFileSync(join(dir, "no-womens", "report.html"), "utf8")).toContain("cannot tell (a run kept no rows)");
  });

  it("--shuffle: each seed its own order, and paired verdicts of the engine against every other policy", async () => {
    const lines: string[] = [];
    const code = await main(["--data", csv, "--format", "hillstrom", "--out", join(dir, "shuffled"), "--seeds", "3", "--metric", "visit", "--shuffle"], { err: (l) => lines.push(l) });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "shuffled", "report.json"), "utf8"));
    expect(r.shuffle).toBe(true);
    expect(Object.keys(r.paired).sort()).toEqual(POLICIES.filter((n) => n !== "engine").sort());
    for (const [name, p] of Object.entries(r.paired) as [string, { mean: number; ci95: number[]; verdict: string }][]) {
      expect(["better", "worse", "cannot tell"]).toContain(p.verdict);
      expect(p.ci95[0]).toBeLessThanOrEqual(p.mean);
      expect(p.ci95[1]).toBeGreaterThanOrEqual(p.mean);
      const perSeed = r.policies[name].perSeed as number[];
      const engine = r.policies.engine.perSeed as number[];
      const mean = engine.reduce((a, v, i) => a + v - (perSeed.length === 1 ? perSeed[0]! : perSeed[i]!), 0) / engine.length;
      expect(p.mean).toBeCloseTo(mean, 12);
    }
    // A fixed arm keeps the same rows in any order; uniform's value moves with its draws and the order.
    expect(r.policies["fixed:Mens E-Mail"].perSeed).toHaveLength(1);
    expect(new Set(r.policies.uniform.perSeed).size).toBe(3);
    expect(readFileSync(join(dir, "shuffled", "report.html"), "utf8")).toContain("The engine against each policy");
    expect(lines.some((l) => l.startsWith("[eval] engine vs "))).toBe(true);
  });

  it("--baseline \"Mens E-Mail\": engine, apprentice, conservative and the arm itself, and report.json's baseline", async () => {
    const code = await main(["--data", csv, "--format", "hillstrom", "--out", join(dir, "base"), "--seeds", "2", "--metric", "visit", "--baseline", "Mens E-Mail"], { err: () => undefined });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "base", "report.json"), "utf8"));
    expect(Object.keys(r.policies).sort()).toEqual(["apprentice", "baseline", "conservative", "engine"]);
    expect(r.baseline).toMatchObject({ name: "Mens E-Mail", checkpoints: r.curves.rows, minKept: 1000 });
    for (const p of ["apprentice", "conservative", "engine"]) expect(r.baseline.shareOfBaseline[p]).toHaveLength(r.curves.rows.length);
    expect(r.baseline.graduatedAt).toHaveProperty("apprentice");
    expect(r.baseline.graduatedAtBySeed.apprentice).toHaveLength(2);
    // The report names the rule it compared against ("baseline", no "fixed:" prefix to cut).
    const html = readFileSync(join(dir, "base", "report.html"), "utf8");
    expect(html).toContain("The best single e-mail for everyone is <b>Mens E-Mail (the baseline)</b>");
    // The safe-start figures are in the page too, not only in report.json.
    expect(html).toContain("Against the shop's rule: <code>Mens E-Mail</code>");
    expect(html).toMatch(/<td class="l">conservative<\/td><td>\d\.\d{3}<\/td>/);
    const lines: string[] = [];
    expect(await main(["--data", csv, "--format", "hillstrom", "--out", join(dir, "bad"), "--baseline", "Kids E-Mail"], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain("--baseline must be one of the log's arms");
  });

  it("fails with exit code 2 and the usage on bad arguments", async () => {
    const lines: string[] = [];
    expect(await main(["--data", csv, "--out", join(dir, "x"), "--metric", "clicks"], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain("--metric must be one of visit, conversion, spend");
    expect(await main(["--data", csv], { err: () => undefined })).toBe(2);
    expect(await main(["--bogus"], { err: () => undefined })).toBe(2);
    expect(await main(["--data", join(dir, "missing.csv"), "--out", join(dir, "y")], { err: () => undefined })).toBe(1);
  });

  it("refuses, before any work, an --out it cannot write and flags of another run", async () => {
    writeFileSync(join(dir, "a-file"), "");
    const lines: string[] = [];
    expect(await main(["--data", csv, "--out", join(dir, "a-file"), "--seeds", "2"], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toMatch(/--out .*a-file: cannot write the report there/);
    lines.length = 0;
    expect(await main(["--data", csv, "--sim", "--out", join(dir, "z")], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain("--sim and --data are different runs");
    expect(await main(["--data", csv, "--candidate", "x.json", "--out", join(dir, "z")], { err: () => undefined })).toBe(2);
  });
});

describe("npm run eval -- --sim", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-eval-sim-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes regret and share of the oracle for the engine, greedy, uniform and every promotion as a fixed rule", async () => {
    const code = await main(["--sim", "--scenario", "steady", "--decisions", "400", "--out", dir, "--quiet"], { err: () => undefined });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(r.scenario).toBe("steady");
    expect(r.decisions).toBe(400);
    const names = ["engine", "greedy-conversion", "uniform", ...loadConfig({ env: {} }).promotions.map((p) => `fixed:${p.id}`)];
    expect(Object.keys(r.regret).sort()).toEqual([...names].sort());
    expect(Object.keys(r.marginShareOfOracle).sort()).toEqual([...names].sort());
    for (const n of names) {
      expect(r.regret[n]).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(r.marginShareOfOracle[n])).toBe(true);
      expect(r.marginShareOfOracle[n]).toBeLessThanOrEqual(1);
    }
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain("<svg");
  });
});

describe("npm run eval -- --sim --baseline", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-eval-base-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs apprentice, conservative, engine and baseline, and report.json gains baseline {name, checkpoints, shareOfBaseline, graduatedAt}", async () => {
    const lines: string[] = [];
    const code = await main(["--sim", "--scenario", "rule-is-best", "--decisions", "2500", "--baseline", "seed-rule", "--out", dir, "--quiet"], { err: (l) => lines.push(l) });
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(Object.keys(r.lastHalf.marginShareOfOracle).sort()).toEqual(["apprentice", "baseline", "conservative", "engine"]);
    expect(r.baseline).toMatchObject({ name: "seed-rule", checkpoints: [1000, 2000, 2500], graduatedAt: { apprentice: null } });
    for (const p of ["apprentice", "conservative", "engine"]) {
      expect(r.baseline.shareOfBaseline[p]).toHaveLength(3);
      for (const x of r.baseline.shareOfBaseline[p]) expect(x).toBeGreaterThan(0.5);
    }
    // Where no promotion pays, the learner alone loses margin, and the bound keeps the loss within α.
    expect(Math.min(...r.baseline.shareOfBaseline.conservative)).toBeGreaterThanOrEqual(0.95);
    // The seed rule's 3rd view never comes at a first-view decision: said, not hidden.
    expect(lines.join("\n")).toContain("at the engine's decision points it offers no promotion");
    const html = readFileSync(join(dir, "report.html"), "utf8");
    expect(html).toContain("Against the shop's rule: <code>seed-rule</code>");
    expect(html).toContain("The apprentice <b>did not graduate</b>");
    expect(await main(["--sim", "--decisions", "10", "--baseline", "sometimes", "--out", dir, "--quiet"], { err: () => undefined })).toBe(2);
  });
});

describe("npm run eval -- --logs (from a file)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-eval-logs-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes report.json with logged and candidates (ips, snips, dr, ess) and a self-contained report.html", async () => {
    const cfg = loadConfig({ env: {} });
    writeLogFile(simLog(cfg, loadScenario("steady"), 7, 1_500, 40 * 60_000), join(dir, "shop.jsonl"));
    writeFileSync(join(dir, "holdout-30.json"), JSON.stringify({ bandit: { holdoutShare: 0.3 } }));
    const errs: string[] = [];
    const code = await main(["--logs", "--logs-file", join(dir, "shop.jsonl"), "--candidate", join(dir, "holdout-30.json"), "--out", join(dir, "out")], { err: (l) => errs.push(l) });
    expect(code, errs.join("\n")).toBe(0);
    const r = JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8"));
    expect(Object.keys(r)).toEqual(expect.arrayContaining(["logged", "candidates"]));
    expect(r.logged.rows).toBeGreaterThan(0);
    const c = r.candidates["holdout-30"];
    for (const k of ["ips", "snips", "dr"]) {
      expect(typeof c[k].value).toBe("number");
      expect(c[k].ci95).toHaveLength(2);
    }
    expect(c.ess).toBeGreaterThan(0);
    expect(c.overlay).toEqual({ bandit: { holdoutShare: 0.3 } });
    const html = readFileSync(join(dir, "out", "report.html"), "utf8");
    expect(html).toContain("holdout-30");
    expect(html).not.toMatch(/<script|<link|@import|src=/i);
    expect(errs.some((l) => /holdout-30: DR \$/.test(l))).toBe(true);
  });

  it("refuses, with the usage and the scenarios there are, a --sim scenario with no file", async () => {
    const lines: string[] = [];
    expect(await main(["--sim", "--scenario", "nope", "--decisions", "400", "--out", join(dir, "z")], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toMatch(/--scenario nope: no such scenario; use all or one of .*steady/);
  });

  it("refuses two candidates of one file name (each is reported under its name)", async () => {
    for (const d of ["c1", "c2"]) {
      mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, d, "cand.json"), JSON.stringify({ bandit: { holdoutShare: d === "c1" ? 0.3 : 0.1 } }));
    }
    const lines: string[] = [];
    expect(await main(["--logs", "--logs-file", join(dir, "shop.jsonl"), "--candidate", join(dir, "c1", "cand.json"), "--candidate", join(dir, "c2", "cand.json"), "--out", join(dir, "dup")], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain("two --candidate files are named cand.json");
  });

  it("refuses, with the usage, --logs without a candidate, and a candidate file that is not JSON", async () => {
    const lines: string[] = [];
    expect(await main(["--logs", "--out", join(dir, "x")], { err: (l) => lines.push(l) })).toBe(2);
    expect(lines.join("\n")).toContain("--logs needs at least one --candidate");
    writeFileSync(join(dir, "bad.json"), "{ not json");
    expect(await main(["--logs", "--logs-file", join(dir, "none.jsonl"), "--candidate", join(dir, "bad.json"), "--out", join(dir, "y")], { err: () => undefined })).toBe(2);
  });
});
