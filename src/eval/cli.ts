// `npm run eval -- --data <csv> --format hillstrom --out <dir> [--metric visit|conversion|spend] [--seeds N] [--shuffle] [--baseline <arm>]`
// `npm run eval -- --sim --scenario <name|all> --decisions N --out <dir> [--seed N] [--baseline <rule>]`
// `npm run eval -- --logs --candidate <config.json> [--candidate …] --out <dir> [--logs-file FILE]`
// `npm run eval -- --export-logs FILE`
// All take --config <file> (an overlay of config/default.json); --data and --sim take --eval-config <file> (instead of config/eval.json).
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { baselineNotes, builtinBaseline, BUILTIN_BASELINES, ConfigError, loadConfig, type BaselineRule, type Config } from "../config/index.ts";
import { engineConfigFrom } from "../engine/index.ts";
import { listScenarios, loadScenario } from "../../simulator/world/index.ts";
import { loadEvalConfig } from "./config.ts";
import { EvalError, PS_ERR_EVAL } from "./errors.ts";
import { readHillstrom } from "./hillstrom.ts";
import { dollars2, replayHtml, simHtml, whatIfHtml } from "./html.ts";
import { evaluateLog } from "./offline.ts";
import { METRICS, type Metric } from "./replay.ts";
import { runSim, safePolicies, simPolicies } from "./sim.ts";
import { exportLogs, readLogFile, readLogFromNats, type LogCounts } from "./logs.ts";
import { evaluateCandidates, publishWhatIf, type ShopLog, type WhatIfCandidate } from "./whatif.ts";
import { connectNats, redactUrl } from "../io/nats/index.ts";
import { createLogger } from "../log/index.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import { baselineReport, simReport, type SimReport } from "./simreport.ts";

/** What stops a long read (Ctrl-C, or a SIGTERM from `timeout` or a service manager). */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

export const USAGE = `usage:
  npm run eval -- --data <csv> --format hillstrom --out <dir> [--metric visit|conversion|spend] [--seeds N] [--shuffle] [--baseline <arm>]
      --shuffle: each seed replays the rows in its own random order (the same for every policy at that seed)
      --baseline: safe start against always that logged arm (e.g. "Mens E-Mail"): runs engine, apprentice,
      conservative and baseline; report.json gains "baseline"
  npm run eval -- --sim --scenario <name|all> --decisions N --out <dir> [--seed N] [--baseline <rule>]
      --baseline: safe start against the shop's rule (seed-rule, never, or a promotion id: always it): runs
      engine, apprentice, conservative and baseline; report.json gains "baseline"
  npm run eval -- --logs --candidate <config.json> [--candidate <config.json> …] --out <dir> [--logs-file FILE] [--min-ess N]
      what each candidate configuration (an overlay like CONFIG_FILE's) would have earned on the shop's own
      decisions: EVENTS, DECISIONS and OUTCOMES from NATS_URL, or from a file written by --export-logs
  npm run eval -- --export-logs FILE     the streams at NATS_URL into FILE, one JSON line per message
common options: --config <file> (overlay of config/default.json: the logged policy's configuration), --quiet
--data and --sim also take --eval-config <file> (default config/eval.json); --logs and --export-logs refuse it`;

export interface CliIo {
  err: (line: string) => void;
}

const usage = (msg: string) => new EvalError(PS_ERR_EVAL.Usage, `${msg}\n${USAGE}`);

/**
 * A whole number from 1 to `max`. Beyond 2^53 a number is no longer exact (`--seed 1e20` and
 * `--seed 100000000000000000001` were the same seed), and `--decisions` sizes the run's arrays (one
 * of 1e20 ended in a RangeError's stack trace).
 */
function positiveInt(v: string | undefined, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw usage(`--${name} must be a positive integer up to ${Number.MAX_SAFE_INTEGER}, got '${v}'`);
  if (n > max) throw usage(`--${name} must be at most ${max}, got '${v}'`);
  return n;
}

/** The simulator's seeds: the world's generator takes its seed modulo 2^32 (simulator.seed, SIM_SEED and sim.control take 0…2^32 − 1). */
const MAX_SEED = 0xffffffff;

/** A whole number from 0 to MAX_SEED: past it, `--seed 4294967303` ran seed 7's world and reported seed 4294967303. */
function seedInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n) || n < 0 || n > MAX_SEED) throw usage(`--${name} must be a whole number from 0 up to ${MAX_SEED}, got '${v}'`);
  return n;
}

/** A policy's worst share of the baseline; report.json's null (no share at all) is printed as – with the reason, not as NaN or Infinity. */
const worstText = (v: number, why: string) => (Number.isFinite(v) ? v.toFixed(3) : `– (${why})`);

/** The simulator's curves are typed arrays of decisions + 1 entries: their length limit. */
const MAX_SIM_DECISIONS = 2 ** 32 - 2;

/** Runs the evaluation; returns the process exit code (0 ok, 1 failure, 2 bad usage or config). */
export async function main(argv: readonly string[], io: CliIo = { err: (l) => process.stderr.write(`${l}\n`) }, signal?: AbortSignal): Promise<number> {
  try {
    const { values: a, tokens } = parseArgs({
      args: [...argv],
      tokens: true,
      options: {
        data: { type: "string" },
        format: { type: "string" },
        out: { type: "string" },
        metric: { type: "string" },
        seeds: { type: "string" },
        shuffle: { type: "boolean" },
        sim: { type: "boolean" },
        scenario: { type: "string" },
        decisions: { type: "string" },
        seed: { type: "string" },
        baseline: { type: "string" },
        logs: { type: "boolean" },
        candidate: { type: "string", multiple: true },
        "logs-file": { type: "string" },
        "export-logs": { type: "string" },
        "min-ess": { type: "string" },
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
    // A flag given twice (`--seeds 1 --seeds 50`) would silently run with the last value; only --candidate repeats.
    const given = new Map<string, string[]>();
    for (const t of tokens) if (t.kind === "option" && t.name !== "candidate") given.set(t.name, [...(given.get(t.name) ?? []), t.value ?? ""]);
    for (const [name, vs] of given) if (vs.length > 1) throw usage(`--${name} is given ${vs.length} times${vs.some((v) => v !== "") ? ` (${vs.map((v) => `'${v}'`).join(", ")})` : ""}: give it once`);
    const progress = a.quiet ? undefined : (t: string) => io.err(`[eval] ${t}`);
    // One mode a run: the others' flags would be ignored without a word.
    const modes = [a["export-logs"] !== undefined && "--export-logs", a.logs && "--logs", a.sim && "--sim", a.data !== undefined && "--data"].filter((m): m is string => typeof m === "string");
    if (modes.length > 1) throw usage(`${modes.join(" and ")} are different runs: give one of them`);
    if (!a.logs && (a.candidate || a["logs-file"] || a["min-ess"])) throw usage("--candidate, --logs-file and --min-ess belong to --logs");
    if (a["export-logs"] !== undefined && a.out) throw usage("--export-logs writes FILE; --out belongs to the other runs");
    if (a.logs || a["export-logs"] !== undefined) {
      // What --logs and --export-logs do not read: taken without a word, the run would not be the one asked for.
      const foreign = (["format", "metric", "seeds", "shuffle", "scenario", "decisions", "seed", "baseline"] as const).filter((k) => a[k] !== undefined).map((k) => `--${k}`);
      if (foreign.length) throw usage(`${foreign.join(", ")} ${foreign.length > 1 ? "belong" : "belongs"} to --data or --sim, not to ${a.logs ? "--logs" : "--export-logs"}`);
      // config/eval.json holds settings of the replay and the simulator runs only.
      if (a["eval-config"] !== undefined) throw usage(`--eval-config belongs to --data and --sim, not to ${a.logs ? "--logs" : "--export-logs"}: they read no evaluation settings (--logs takes --min-ess)`);
    }
    if (a["export-logs"] === "") throw usage("--export-logs needs a FILE to write, e.g. --export-logs shop.jsonl");
    if (a["export-logs"] !== undefined) {
      const cfg = loadConfig({ ...(a.config ? { file: a.config } : {}) });
      const nc = await connectForLogs(cfg);
      // Ctrl-C (or SIGTERM: `timeout`, a service manager): stop reading, close the file with whole lines,
      // and say that it is incomplete (exit 130, 143 after SIGTERM), instead of dying silently and
      // leaving a file that looks like a whole export.
      const ac = new AbortController();
      let signalled: NodeJS.Signals | undefined;
      const onSignal = (sig?: NodeJS.Signals) => {
        signalled ??= sig;
        ac.abort();
      };
      if (signal) signal.addEventListener("abort", () => onSignal(), { once: true });
      else for (const sig of STOP_SIGNALS) process.once(sig, onSignal);
      try {
        const file = resolve(a["export-logs"]);
        const n = await exportLogs(nc, cfg, file, progress, ac.signal);
        if (ac.signal.aborted) {
          io.err(`[eval] interrupted: ${file} holds only what was read before (${n.EVENTS} events, ${n.DECISIONS} decisions, ${n.OUTCOMES} outcomes): it is not the whole log; run the export again`);
          return signalled === "SIGTERM" ? 143 : 130;
        }
        io.err(`[eval] wrote ${n.EVENTS} events, ${n.DECISIONS} decisions and ${n.OUTCOMES} outcomes to ${file}`);
      } finally {
        for (const sig of STOP_SIGNALS) process.removeListener(sig, onSignal);
        await nc.close();
      }
      return 0;
    }
    if (!a.out) throw usage("--out <dir> is required");
    // Made (or found writable) now, not after a run of minutes whose result would then be lost.
    outputDir(resolve(a.out));
    if (a.logs) return await whatIf(a, io, progress);
    const evalCfg = loadEvalConfig(a["eval-config"] !== undefined ? { file: a["eval-config"] } : {});
    const out = resolve(a.out);
    if (a.sim) {
      if (a.data || a.format || a.metric || a.seeds || a.shuffle) throw usage("--sim does not take --data, --format, --metric, --seeds or --shuffle");
      const cfg = loadConfig({ env: {}, ...(a.config ? { file: a.config } : {}) });
      // An empty name ran every scenario, as no --scenario does.
      if (a.scenario === "") throw usage(`--scenario needs a scenario's name, or all: one of ${listScenarios().join(", ")}`);
      const names = a.scenario === undefined || a.scenario === "all" ? listScenarios() : [a.scenario];
      if (!names.every((n) => listScenarios().includes(n))) throw usage(`--scenario ${a.scenario}: no such scenario; use all or one of ${listScenarios().join(", ")}`);
      const decisions = positiveInt(a.decisions, "decisions", MAX_SIM_DECISIONS) ?? evalCfg.sim.decisions;
      const seed = seedInt(a.seed, "seed") ?? cfg.simulator.seed;
      const rule = a.baseline !== undefined ? simBaseline(a.baseline, cfg) : undefined;
      if (rule) for (const note of baselineNotes(rule, cfg)) io.err(`[eval] note: ${note}`);
      const reports: SimReport[] = [];
      for (const name of names) {
        const scenario = loadScenario(name);
        const policies = rule ? safePolicies(rule) : simPolicies(cfg.promotions.map((p) => p.id));
        // The report's segment diagnostic reads the engine's joined decisions (simReport's `ref`): only those are kept.
        const ref = policies.some((p) => p.name === "engine") ? "engine" : policies[0]?.name;
        const runs = policies.map((policy) => {
          const t0 = performance.now();
          const r = runSim({ cfg, scenario, decisions, seed, sliceMs: evalCfg.sim.sliceMs, policy, progress, detail: policy.name === ref });
          progress?.(`${name} ${policy.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          return r;
        });
        const report = simReport(runs, {
            scenario: name,
            description: scenario.description,
            seed,
            policies: Object.fromEntries(policies.map((p) => [p.name, p.description])),
            windowDecisions: evalCfg.sim.windowDecisions,
            recoveryShare: evalCfg.sim.recoveryShare,
            recoveryWithinDecisions: evalCfg.sim.recoveryWithinDecisions,
            sliceMs: evalCfg.sim.sliceMs,
          });
        if (rule) {
          report.baseline = baselineReport(runs, rule.name);
          const b = report.baseline;
          io.err(
            `[eval] ${name}: baseline ${rule.name}: apprentice graduated at ${b.graduatedAt.apprentice ?? "never"}; worst share of the baseline ${Object.entries(b.worstShareOfBaseline)
              .map(([k, v]) => `${k} ${worstText(v, Number.isNaN(v) ? "the rule's margin was not positive at a checkpoint" : "no checkpoint")}`)
              .join(", ")}`,
          );
        }
        reports.push(report);
      }
      const json = reports.length === 1 ? reports[0]! : { decisions, seed, scenarios: Object.fromEntries(reports.map((r) => [r.scenario, r])) };
      write(out, json, simHtml(reports));
      for (const r of reports)
        io.err(`[eval] ${r.scenario}: share of oracle (last half) ${Object.entries(r.lastHalf.marginShareOfOracle).map(([k, v]) => `${k} ${Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "– (the oracle earns nothing here)"}`).join(", ")}`);
    } else {
      if (!a.data) throw usage("--data <csv> is required (or --sim)");
      if ((a.format ?? "hillstrom") !== "hillstrom") throw usage(`--format '${a.format}' is not supported; use hillstrom`);
      if (a.scenario !== undefined || a.decisions !== undefined || a.seed !== undefined) throw usage("--scenario, --decisions and --seed belong to --sim");
      const h = evalCfg.hillstrom;
      const metric = (a.metric ?? "visit") as Metric;
      if (!METRICS.includes(metric)) throw usage(`--metric must be one of ${METRICS.join(", ")}, got '${a.metric}'`);
      const seeds = positiveInt(a.seeds, "seeds") ?? evalCfg.seeds;
      const cfg = loadConfig({ env: {}, ...(a.config ? { file: a.config } : {}), overrides: { bandit: h.bandit } });
      const log = readHillstrom(a.data, metric, [...h.promotions, h.control]);
      const shuffle = a.shuffle ?? false;
      progress?.(`${basename(a.data)}: ${log.rows.length} rows, metric ${metric}, ${seeds} seeds${shuffle ? ", each in its own order" : ""}`);
      const arms = [...h.promotions, h.control];
      if (a.baseline !== undefined && !arms.includes(a.baseline)) throw usage(`--baseline must be one of the log's arms (${arms.map((x) => JSON.stringify(x)).join(", ")}), got '${a.baseline}'`);
      const ec = engineConfigFrom(cfg);
      const report = evaluateLog({ dataset: basename(a.data), rows: log.rows, metric, seeds, shuffle, eval: evalCfg, bandit: ec.bandit, progress, ...(a.baseline !== undefined ? { baseline: { arm: a.baseline, safe: ec.safe! } } : {}) });
      write(out, report, replayHtml(report));
      if (report.baseline) {
        const b = report.baseline;
        io.err(`[eval] baseline ${b.name}: apprentice graduated at row ${b.graduatedAt.apprentice ?? "never"} (median of ${seeds} seeds); worst share of the baseline after ${b.minKept} kept rows ${Object.entries(b.worstShareOfBaseline).map(([k, v]) => `${k} ${worstText(v, `no checkpoint after ${b.minKept} kept rows`)}`).join(", ")}`);
      }
      io.err(`[eval] engine ${report.policies["engine"]!.value.toFixed(4)} = ${(100 * report.summary.engineShareOfBestFixed).toFixed(1)}% of ${report.summary.bestFixed}`);
      io.err(`[eval] engine vs ${Object.entries(report.paired).map(([k, p]) => `${k}: ${p.verdict}`).join(", ")}`);
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

/**
 * The shop's rule for --baseline: a built-in (seed-rule, never), or a configured promotion's id for
 * "always that promotion" wherever it is offered (the simulator's counterpart of Hillstrom's "always
 * that arm").
 */
function simBaseline(name: string, cfg: Readonly<Config>): BaselineRule {
  const builtin = builtinBaseline(name);
  if (builtin) {
    const missing = [builtin.web, builtin.email, builtin.sms, builtin.push].find((r) => r && r.offer !== "control" && !cfg.promotions.some((p) => p.id === r.offer));
    if (missing) throw usage(`--baseline ${name} offers ${missing.offer}, which the configuration's promotions do not hold`);
    return builtin;
  }
  const p = cfg.promotions.find((x) => x.id === name);
  if (!p) throw usage(`--baseline must be ${BUILTIN_BASELINES.join(", ")} or a promotion id (${cfg.promotions.map((x) => x.id).join(", ")}), got '${name}'`);
  const rule: BaselineRule = { name };
  for (const ch of p.channels) rule[ch] = { offer: p.id };
  return rule;
}

/** NATS for reading the logs: NATS_URL (or the config's nats.url), which must be running. */
async function connectForLogs(cfg: Readonly<Config>): Promise<NatsConnection> {
  const url = cfg.nats.url;
  if (!url) throw new EvalError(PS_ERR_EVAL.Usage, "NATS_URL is not set: the logs are read from a running NATS server; set NATS_URL, e.g. NATS_URL=nats://127.0.0.1:4222 (npm start runs one there), or give --logs-file FILE");
  try {
    return await connectNats(cfg.nats, url, "promo-stream-eval", createLogger("silent"));
  } catch (err) {
    throw new EvalError(PS_ERR_EVAL.DataUnreadable, `cannot reach NATS at ${redactUrl(url)} (NATS_URL): ${(err as Error).message}`, { cause: err });
  }
}

interface LogsArgs {
  candidate?: string[] | undefined;
  "logs-file"?: string | undefined;
  "min-ess"?: string | undefined;
  config?: string | undefined;
  out?: string | undefined;
}

/** --logs: the what-if evaluation of each --candidate on the logs. */
async function whatIf(a: LogsArgs, io: CliIo, progress: ((t: string) => void) | undefined): Promise<number> {
  if (!a.candidate?.length) throw usage("--logs needs at least one --candidate <config.json>");
  const base = loadConfig({ ...(a.config ? { file: a.config } : {}) });
  const candidates: WhatIfCandidate[] = a.candidate.map((f, i) => {
    let overlay: unknown;
    try {
      overlay = JSON.parse(readFileSync(resolve(f), "utf8"));
    } catch (err) {
      throw new EvalError(PS_ERR_EVAL.ConfigInvalid, `--candidate ${f} cannot be read as JSON: ${(err as Error).message}`, { cause: err });
    }
    const name = basename(f).replace(/\.json$/, "") || `candidate-${i + 1}`;
    let cfg: Readonly<Config>;
    try {
      cfg = loadConfig({ ...(a.config ? { file: a.config } : {}), overrides: overlay });
    } catch (err) {
      // The base configuration loaded above: what is wrong is this file's, and of several the key alone does not say which.
      if (err instanceof ConfigError) throw new EvalError(PS_ERR_EVAL.ConfigInvalid, `--candidate ${f}: ${err.message}`, { cause: err });
      throw err;
    }
    return { name, overlay, cfg };
  });
  // A candidate is reported under its file's name: two of one name would be one in the report.
  const names = candidates.map((c) => c.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw usage(`two --candidate files are named ${twice}.json: each candidate is reported under its file's name; rename one`);
  const minEss = positiveInt(a["min-ess"], "min-ess");
  let read: { log: ShopLog; counts: LogCounts };
  let nc: NatsConnection | undefined;
  try {
    if (a["logs-file"]) {
      read = await readLogFile(resolve(a["logs-file"]), base, progress);
      const c = read.counts;
      if (c.badLines > 0)
        io.err(`[eval] warning: ${c.badLines} line(s) of ${a["logs-file"]} are no log record and were skipped: ${c.badLineExamples.map((e) => `line ${e.line} (${e.reason})`).join(", ")}${c.badLines > c.badLineExamples.length ? ", …" : ""}`);
    }
    else {
      nc = await connectForLogs(base);
      read = await readLogFromNats(nc, base, progress);
    }
    const skipped = Object.values(read.counts.skipped).reduce((x, y) => x + y, 0);
    const repeated = Object.values(read.counts.repeated).reduce((x, y) => x + y, 0);
    progress?.(`log: ${read.counts.events} events, ${read.counts.decisions} decisions, ${read.counts.outcomes} outcomes (not decodable, skipped: ${skipped}; repeated ids, counted once: ${repeated})`);
    if (read.counts.decisions === 0) throw new EvalError(PS_ERR_EVAL.DataInvalid, "the log holds no decisions: run the processor (npm start) for a while first");
    const report = evaluateCandidates(read.log, base, candidates, { ...(minEss ? { minEss } : {}), ...(progress ? { progress } : {}) });
    if (report.logged.rows === 0)
      throw new EvalError(PS_ERR_EVAL.DataInvalid, `none of the log's ${read.counts.decisions} decisions has ended its attribution window yet (attribution.windowSecByChannel, plus features.allowedLatenessSec): let the shop run longer`);
    const out = resolve(a.out!);
    write(out, report, whatIfHtml(report));
    // The dashboard's copy is a second output: its failure (no such bucket, e.g. NATS of another deployment
    // or another kv.stateBucket; credentials that may not write it) is said after the results, not thrown
    // with the client's stack (a missing bucket read 'JetStreamNotEnabled: jetstream is not enabled').
    let notStored: string | undefined;
    if (nc)
      try {
        await publishWhatIf(nc, base, report);
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        notStored = `[eval] could not store the what-if summary in ${base.kv.stateBucket} (kv.stateBucket) for the dashboard: ${(err as Error).message}${cause ? ` (${cause})` : ""}; is the processor's state bucket on this NATS, and may these credentials write it? The report is written.`;
      }
    const $ = dollars2;
    for (const [name, c] of Object.entries(report.candidates))
      io.err(`[eval] ${name}: DR $${$(c.dr.value)}/decision [${$(c.dr.ci95[0])}, ${$(c.dr.ci95[1])}], over control $${$(c.incremental.dr.value)}; ESS ${Math.round(c.ess)} of ${c.rows}${c.warnings.length ? `; ${c.warnings.join("; ")}` : ""}`);
    io.err(`[eval] logged policy: $${$(report.logged.value)}/decision over ${report.logged.rows} decisions`);
    io.err(`[eval] wrote ${join(out, "report.json")} and ${join(out, "report.html")}`);
    if (notStored) {
      io.err(notStored);
      return 1;
    }
    return 0;
  } finally {
    await nc?.close();
  }
}

/** The --out directory, made if missing and checked writable: a usage error naming it otherwise. */
function outputDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw usage(`--out ${dir}: cannot write the report there (${(err as Error).message}); give a directory you can write`);
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
