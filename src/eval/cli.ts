// `npm run eval -- --data <csv> --format hillstrom --out <dir> [--metric visit|conversion|spend] [--seeds N]`
// `npm run eval -- --sim --scenario <name|all> --decisions N --out <dir> [--seed N]`
// Both take --config <file> (an overlay of config/default.json) and --eval-config <file> (instead of config/eval.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/index.ts";
import { engineConfigFrom } from "../engine/index.ts";
import { listScenarios, loadScenario } from "../../simulator/world/index.ts";
import { loadEvalConfig } from "./config.ts";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";
import { readHillstrom } from "./hillstrom.ts";
import { replayHtml, simHtml } from "./html.ts";
import { evaluateLog } from "./offline.ts";
import { METRICS, type Metric } from "./replay.ts";
import { runSim, simPolicies } from "./sim.ts";
import { simReport, type SimReport } from "./simreport.ts";

export const USAGE = `usage:
  npm run eval -- --data <csv> --format hillstrom --out <dir> [--metric visit|conversion|spend] [--seeds N]
  npm run eval -- --sim --scenario <name|all> --decisions N --out <dir> [--seed N]
common options: --config <file> (overlay of config/default.json), --eval-config <file> (default config/eval.json), --quiet`;

export interface CliIo {
  err: (line: string) => void;
}

const usage = (msg: string) => new EvalError(PS_ERR_EVAL.Usage, `${msg}\n${USAGE}`);

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usage(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

/** Runs the evaluation; returns the process exit code (0 ok, 1 failure, 2 bad usage or config). */
export async function main(argv: readonly string[], io: CliIo = { err: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  try {
    const { values: a } = parseArgs({
      args: [...argv],
      options: {
        data: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        metric: { type: "string" },
        seeds: { type: "string" },
        sim: { type: "boolean" },
        scenario: { type: "string" },
        decisions: { type: "string" },
        seed: { type: "string" },
        config: { type: "string" },
        "eval-config": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (a.help) {
      io.err(USAGE);
      return 0;
    }
    if (!a.out) throw usage("--out <dir> is required");
    const progress = a.quiet ? undefined : (t: string) => io.err(`[eval] ${t}`);
    const evalCfg = loadEvalConfig(a["eval-config"] ? { file: a["eval-config"] } : {});
    const out = resolve(a.out);
    if (a.sim) {
      if (a.data || a.format || a.metric || a.seeds) throw usage("--sim does not take --data, --format, --metric or --seeds");
      const cfg = loadConfig({ env: {}, ...(a.config ? { file: a.config } : {}) });
      const names = !a.scenario || a.scenario === "all" ? listScenarios() : [a.scenario];
      const decisions = positiveInt(a.decisions, "decisions") ?? evalCfg.sim.decisions;
      const seed = positiveInt(a.seed, "seed") ?? cfg.simulator.seed;
      const reports: SimReport[] = [];
      for (const name of names) {
        const scenario = loadScenario(name);
        const policies = simPolicies(cfg.promotions.map((p) => p.id));
        const runs = policies.map((policy) => {
          const t0 = performance.now();
          const r = runSim({ cfg, scenario, decisions, seed, sliceMs: evalCfg.sim.sliceMs, policy, progress });
          progress?.(`${name} ${policy.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          return r;
        });
        reports.push(
          simReport(runs, {
            scenario: name,
            description: scenario.description,
            seed,
            policies: Object.fromEntries(policies.map((p) => [p.name, p.description])),
            windowDecisions: evalCfg.sim.windowDecisions,
            recoveryShare: evalCfg.sim.recoveryShare,
            recoveryWithinDecisions: evalCfg.sim.recoveryWithinDecisions,
            sliceMs: evalCfg.sim.sliceMs,
          }),
        );
      }
      const json = reports.length === 1 ? reports[0]! : { decisions, seed, scenarios: Object.fromEntries(reports.map((r) => [r.scenario, r])) };
      write(out, json, simHtml(reports));
      for (const r of reports)
        io.err(`[eval] ${r.scenario}: share of oracle (last half) ${Object.entries(r.lastHalf.marginShareOfOracle).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`).join(", ")}`);
    } else {
      if (!a.data) throw usage("--data <csv> is required (or --sim)");
      if ((a.format ?? "hillstrom") !== "hillstrom") throw usage(`--format '${a.format}' is not supported; use hillstrom`);
      if (a.scenario || a.decisions || a.seed) throw usage("--scenario, --decisions and --seed belong to --sim");
      const metric = (a.metric ?? "visit") as Metric;
      if (!METRICS.includes(metric)) throw usage(`--metric must be one of ${METRICS.join(", ")}, got '${a.metric}'`);
      const seeds = positiveInt(a.seeds, "seeds") ?? evalCfg.seeds;
      const h = evalCfg.hillstrom;
      const cfg = loadConfig({ env: {}, ...(a.config ? { file: a.config } : {}), overrides: { bandit: h.bandit } });
      const log = readHillstrom(a.data, metric, [...h.promotions, h.control]);
      progress?.(`${basename(a.data)}: ${log.rows.length} rows, metric ${metric}, ${seeds} seeds`);
      const report = evaluateLog({ dataset: basename(a.data), rows: log.rows, metric, seeds, eval: evalCfg, bandit: engineConfigFrom(cfg).bandit, progress });
      write(out, report, replayHtml(report));
      io.err(`[eval] engine ${report.policies["engine"]!.value.toFixed(4)} = ${(100 * report.summary.engineShareOfBestFixed).toFixed(1)}% of ${report.summary.bestFixed}`);
    }
    io.err(`[eval] wrote ${join(out, "report.json")} and ${join(out, "report.html")}`);
    return 0;
  } catch (err) {
    if (err instanceof EvalError || err instanceof ConfigError) {
      io.err(err.message);
      return err instanceof ConfigError || err.code === PS_ERR_EVAL.Usage || err.code === PS_ERR_EVAL.ConfigInvalid ? 2 : 1;
    }
    if ((err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function write(dir: string, json: unknown, html: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(dir, "report.html"), html);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
