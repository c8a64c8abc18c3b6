// `npm run bench [-- --only <section>] [-- --quick] [-- --profile]`: runs the benchmark sections of
// issue #7 against a nats-server it starts itself (random port, temp store, file storage), prints a
// table per section and a summary beside the targets, and writes bench/out/results.json (git-ignored).
// Every figure comes from one run, so ratios are fair on a noisy machine. Exits 0 whatever the figures
// (they are not asserted); non-zero only when something is broken.
//
// A section is a function returning a JSON-ready result plus the table rows to print; add new
// sections to SECTIONS below. The NATS sections share one server, one generated event stream and one
// live processor through BenchContext, in the order listed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchScaleOut } from "./scale.bench.ts";
import { loadavg } from "node:os";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { DecideTimingByArms } from "./decide.bench.ts";
import { BenchContext } from "./context.ts";
import { benchThroughput } from "./throughput.bench.ts";
import { benchLatency } from "./latency.bench.ts";
import { benchFanout } from "./fanout.bench.ts";
import { benchDecideApi } from "./decide-api.bench.ts";
import { benchMemory } from "./memory.bench.ts";
import type { MemoryPoint } from "./memory-child.ts";
import { benchRecovery } from "./recovery.bench.ts";
import { machineInfo } from "./machine.ts";
import { hold, releaseAll } from "./cleanup.ts";
import { ConfigError } from "../src/config/index.ts";
import { round, showSpread } from "./stats.ts";
import { median, pauseFigures, pausesByKind, targets } from "./summary.ts";

interface SectionResult {
  /** Keys merged into results.json. */
  results: Record<string, unknown>;
  /** Rows printed with console.table. */
  table: Record<string, unknown>[];
}

interface Section {
  describe: string;
  run(ctx: BenchContext): SectionResult | Promise<SectionResult>;
}

const SECTIONS: Record<string, Section> = {
  throughput: {
    describe: "bus ceiling (no-work consumer, the processor's ack mode and batching) vs the processor draining the same preloaded stream; the loader's acked publish rate",
    run: async (ctx) => {
      const r = await benchThroughput(ctx);
      const share = r.pipeline.median / r.busCeiling.median;
      const ms = (xs: number[]) => showSpread({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs }, 1);
      return {
        results: {
          publishEventsPerSec: Math.round(r.publishEventsPerSec),
          busCeilingEventsPerSec: Math.round(r.busCeiling.median),
          pipelineEventsPerSec: Math.round(r.pipeline.median),
          pipelineShareOfCeiling: round(share, 3),
          // Issue #16: the processor's CPU (all its threads) per event, median of the pipeline drains.
          cpuMicrosPerEvent: round(median(r.pipelineRuns.map((p) => p.cpuMicrosPerEvent)), 1),
          // Issue 24: JS heap bytes allocated per event, median of the pipeline drains.
          bytesAllocatedPerEvent: Math.round(median(r.pipelineRuns.map((p) => p.bytesAllocatedPerEvent))),
          decisionsPerSec: Math.round(r.decisions.median),
          throughputDetail: {
            events: r.events,
            decisionPointShare: round(r.decisionPointShare, 3),
            meanEventBytes: Math.round(r.meanEventBytes),
            busCeilingRuns: r.ceilingRuns.map((c) => ({ eventsPerSec: Math.round(c.eventsPerSec), serverCores: round(c.serverCores), clientCores: round(c.clientCores) })),
            pipelineRuns: r.pipelineRuns.map((p) => ({
              eventsPerSec: Math.round(p.eventsPerSec),
              decisionsPerSec: Math.round(p.decisionsPerSec),
              seconds: round(p.seconds),
              processorCores: round(p.processorCores),
              serverCores: round(p.serverCores),
              cpuMicrosPerEvent: round(p.cpuMicrosPerEvent, 1),
              rssMb: Math.round(p.rssMb),
            })),
            ...(r.noCheckpoint ? { pipelineWithoutCheckpointsEventsPerSec: Math.round(r.noCheckpoint.eventsPerSec), withoutCheckpointsCpuMicrosPerEvent: round(r.noCheckpoint.cpuMicrosPerEvent, 1) } : {}),
          },
        },
        table: [
          { figure: "publishEventsPerSec (loader, acked)", value: Math.round(r.publishEventsPerSec) },
          { figure: "busCeilingEventsPerSec", value: showSpread(r.busCeiling) },
          { figure: "pipelineEventsPerSec", value: showSpread(r.pipeline) },
          { figure: "pipelineShareOfCeiling", value: round(share, 3) },
          { figure: "decisionsPerSec", value: showSpread(r.decisions) },
          { figure: "processor CPU µs per event", value: ms(r.pipelineRuns.map((p) => p.cpuMicrosPerEvent)) },
          { figure: "processor bytes allocated per event", value: showSpread({ median: median(r.pipelineRuns.map((p) => p.bytesAllocatedPerEvent)), min: Math.min(...r.pipelineRuns.map((p) => p.bytesAllocatedPerEvent)), max: Math.max(...r.pipelineRuns.map((p) => p.bytesAllocatedPerEvent)), runs: [] }, 0) },
          { figure: "pipeline: processor / nats-server cores", value: `${ms(r.pipelineRuns.map((p) => p.processorCores))} / ${ms(r.pipelineRuns.map((p) => p.serverCores))}` },
          { figure: "ceiling: client / nats-server cores", value: `${ms(r.ceilingRuns.map((c) => c.clientCores))} / ${ms(r.ceilingRuns.map((c) => c.serverCores))}` },
          ...(r.noCheckpoint ? [{ figure: "pipeline without checkpoints (diagnostic)", value: Math.round(r.noCheckpoint.eventsPerSec) }] : []),
        ],
      };
    },
  },
  latency: {
    describe: "open loop at 1,000 / 5,000 / 20,000 events/s: scheduled publish → decision receipt (HDR, from the scheduled send)",
    run: async (ctx) => {
      const r = await benchLatency(ctx);
      const gcPauseMs = { ...pauseFigures(r.gcPausesMs), byKind: pausesByKind(r.gcPausesMs, r.gcPauseKinds) };
      const kinds = Object.entries(gcPauseMs.byKind).map(([k, v]) => `${k} ${v.count} (p50 ${v.p50}, max ${v.max} ms, ${v.totalMs} ms in all)`).join("; ");
      console.log(`processor during the latency section: ${gcPauseMs.count} GC pauses, p50 ${gcPauseMs.p50} ms, p99 ${gcPauseMs.p99} ms, max ${gcPauseMs.max} ms (${kinds}); ${Math.round(r.bytesAllocatedPerEvent)} bytes allocated per event`);
      return {
        results: {
          gcPauseMs,
          latencyBytesAllocatedPerEvent: Math.round(r.bytesAllocatedPerEvent),
          latencyMs: Object.fromEntries(Object.entries(r.byOffered).map(([k, v]) => [k, v.latencyMs])),
          latencyDetail: Object.fromEntries(
            Object.entries(r.byOffered).map(([k, v]) => [
              k,
              { sentPerSec: Math.round(v.sentPerSec), decisionPoints: v.decisionPoints, decisions: v.decisions, missing: v.missing, maxSendLagMs: v.maxSendLagMs, ...(r.cpuByOffered[k] ? { cpu: r.cpuByOffered[k] } : {}) },
            ]),
          ),
        },
        table: Object.entries(r.byOffered).map(([offered, v]) => ({
          "offered/s": Number(offered),
          "sent/s": Math.round(v.sentPerSec),
          decisions: v.decisions,
          missing: v.missing,
          "p50 ms": v.latencyMs.p50,
          "p99 ms": v.latencyMs.p99,
          "p99.9 ms": v.latencyMs.p999,
          "max ms": v.latencyMs.max,
          // Cores used / cores' worth of waiting for one (bench/proc.ts): what the tail waits for beyond the work.
          "processor cores/waiting": cpuPair(r.cpuByOffered[offered]?.processor),
          "nats-server cores/waiting": cpuPair(r.cpuByOffered[offered]?.natsServer),
          "feed cores/waiting": cpuPair(r.cpuByOffered[offered]?.feed),
        })),
      };
    },
  },
  fanout: {
    describe: "100 WebSocket clients on the dashboard at 10 frames/s (server.deltaEveryMs 100) while the processor handles 1,000 events/s",
    run: async (ctx) => {
      const r = await benchFanout(ctx);
      const fanout = {
        clients: r.clients,
        framesPerSecPerClient: r.framesPerSecPerClient,
        seconds: round(r.seconds, 1),
        serverCpuShare: round(r.serverCpuShare, 3),
        droppedFrames: r.droppedFrames,
        droppedClients: r.droppedClients,
        framesReceivedPerClient: { median: r.framesReceived.median, min: r.framesReceived.min, max: r.framesReceived.max },
        framesDuePerClient: r.framesDue,
        meanFrameBytes: Math.round(r.meanFrameBytes),
        sentMbPerSec: round(r.sentMbPerSec, 1),
      };
      return { results: { fanout }, table: Object.entries(fanout).map(([figure, value]) => ({ figure, value: typeof value === "object" ? JSON.stringify(value) : value })) };
    },
  },
  decideApi: {
    describe: "POST /api/decide on the server (own process) at 100 and 1,000 requests/s with 5,000 events/s of background, then 5× the highest rate: answers, shed share, the consumer's lag, the background's own decision latency (load and feed in processes of their own)",
    run: async (ctx) => {
      const r = await benchDecideApi(ctx);
      const normal = r.phases.slice(0, -1);
      return {
        results: {
          decideApiMs: Object.fromEntries(normal.map((p) => [String(p.offeredPerSec), { p50: p.latencyMs.p50, p99: p.latencyMs.p99 }])),
          decideApiShedShare: round(r.shedShare, 3),
          decideApiDetail: { phases: r.phases, background: r.background },
        },
        table: [
          ...r.phases.map((p) => ({
            "offered/s": p.offeredPerSec,
            sent: p.sent,
            decided: p.decided,
            "no decision": p.noDecision,
            timeouts: p.timeouts,
            shed: p.shed,
            errors: p.errors,
            "p50 ms": p.latencyMs.p50,
            "p99 ms": p.latencyMs.p99,
            "503 p99 ms": p.shedLatencyMs?.p99 ?? "-",
            "max consumer lag": p.maxConsumerLag,
            "max send lag ms": p.maxSendLagMs,
          })),
          { "offered/s": `background ${r.background.sentPerSec} events/s`, decided: r.background.decisions, timeouts: `missing ${r.background.missing}`, "p50 ms": r.background.latencyMs.p50, "p99 ms": r.background.latencyMs.p99 },
        ],
      };
    },
  },
  memory: {
    describe:
      "RSS of the processor's state with N customers all cached (1M through step, 10M through the store's own API), a checkpoint's pause and bytes when 1% of them changed, and a restore (base + delta) to the first decision (engine in process, one fresh child per point)",
    run: async (ctx) => {
      await ctx.stopLiveProcessor();
      const points = await benchMemory(ctx);
      const by = (f: (p: MemoryPoint) => number, digits: number) => Object.fromEntries(points.map((p) => [String(p.customers), round(f(p), digits)]));
      return {
        results: {
          rssMbByCustomers: by((p) => p.rssMb, 0),
          checkpointPauseMsByCustomers: by((p) => p.checkpointPauseMs, 2),
          checkpointBytesByCustomers: by((p) => p.checkpointBytes, 0),
          recoverySecondsByCustomers: by((p) => p.restoreSeconds + p.firstDecisionMs / 1000, 2),
          memoryDetail: points.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === "number" ? round(v, 2) : v]))),
        },
        table: points.map((p) => ({
          customers: p.customers,
          fill: p.fill,
          events: p.events,
          "RSS MB": Math.round(p.rssMb),
          "store MB": Math.round(p.storeMb),
          "heap MB": Math.round(p.heapUsedMb),
          "open decisions": p.pending,
          "base MB": round(p.baseMb, 1),
          "base write s": round(p.baseWriteSeconds, 2),
          "1% changed: pause ms": round(p.checkpointPauseMs, 2),
          "1% changed: KB": Math.round(p.checkpointBytes / 1024),
          "restore s": round(p.restoreSeconds, 2),
          "first decision ms": round(p.firstDecisionMs, 1),
        })),
      };
    },
  },
  decide: {
    describe: "decide() µs per call (a product view through step) at 5, 50 and 500 promotions, the model learned from its own decisions; promotions on one category each (about an eighth apply at a view) and on everything (all are candidates); views from 20,000 customers (most outside the store's hot set), and the same with the hot set holding all 20,000 (fresh child process)",
    run: async (ctx) => {
      await ctx.stopLiveProcessor();
      // Under --profile the child runs under --cpu-prof too (its setup, the model's learning, included).
      const child = run(process.execPath, [...ctx.nodeFlags(), "--import", "tsx", resolve(here, "decide-child.ts"), ...(ctx.opts.quick ? ["--quick"] : [])], { maxBuffer: 1 << 20, timeout: 600_000 });
      const release = hold(() => child.child.kill("SIGKILL"));
      const { stdout } = await child.finally(release);
      const r = JSON.parse(stdout.trim().split("\n").pop()!) as { category: DecideTimingByArms; hot: DecideTimingByArms; all: DecideTimingByArms };
      const by = (x: DecideTimingByArms, k: "medianMicros" | "minMicros" | "cpuMicros") => Object.fromEntries(Object.entries(x).map(([n, t]) => [n, round(t[k])]));
      return {
        results: {
          decideMicrosByArms: by(r.category, "medianMicros"),
          decideMinMicrosByArms: by(r.category, "minMicros"),
          decideCpuMicrosByArms: by(r.category, "cpuMicros"),
          decideHotMicrosByArms: by(r.hot, "medianMicros"),
          decideAllApplyMicrosByArms: by(r.all, "medianMicros"),
        },
        table: (["category", "hot", "all"] as const).flatMap((scope) =>
          Object.entries(r[scope]).map(([promotions, t]) => ({
            promotions: Number(promotions),
            "apply to": scope === "all" ? "every product" : "one category each",
            customers: scope === "hot" ? "20,000 (all hot)" : "20,000",
            "µs median": round(t.medianMicros),
            "µs min": round(t.minMicros),
            "µs CPU": round(t.cpuMicros),
          })),
        ),
      };
    },
  },
  recovery: {
    describe: "kill -9 of a processor holding N customers (one visit each, all cached) to its first decision after the restart, real nats-server, checkpoints every 5 s",
    run: async (ctx) => {
      await ctx.stopLiveProcessor();
      const r = await benchRecovery(ctx, ctx.sizes.recoveryCustomers);
      return {
        results: {
          restartSecondsByCustomers: { [String(r.customers)]: round(r.restartToDecisionSeconds, 2) },
          recoveryDetail: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v, 2)])),
        },
        table: Object.entries(r).map(([figure, value]) => ({ figure, value: round(value, 2) })),
      };
    },
  },
  scale: {
    describe: "scale-out: the same stream drained by 1, 2 and 3 partitioned processor processes on a 3-node cluster (R3), all on this machine",
    run: async (ctx) => {
      // --quick, a smoke step at the end of CI: 2 processes sharing the partitions (each count starts a
      // fresh 3-node cluster, ~20 s here; the suite and this step together come near CI's 15 minutes).
      const runs = await benchScaleOut(ctx, ctx.opts.quick ? [2] : [1, 2, 3]);
      return {
        results: {
          scaleOut: Object.fromEntries(runs.map((r) => [String(r.processes), { eventsPerSec: Math.round(r.eventsPerSec), seconds: round(r.seconds), events: r.events, decisions: r.decisions }])),
        },
        table: runs.map((r) => ({ processes: r.processes, "events/s": Math.round(r.eventsPerSec), seconds: round(r.seconds), events: r.events, decisions: r.decisions })),
      };
    },
  },
};

const run = promisify(execFile);

/** "0.42 / 0.18": cores used / cores' worth of waiting for one; "–" where /proc could not say. */
function cpuPair(c: { cores: number; waiting: number } | undefined): string {
  return c && Number.isFinite(c.cores) ? `${c.cores.toFixed(2)} / ${Number.isFinite(c.waiting) ? c.waiting.toFixed(2) : "–"}` : "–";
}

const USAGE =
  "usage: npm run bench -- [--only <section>]... [--quick] [--profile] [--config <JSON>]\n" +
  "  --quick    smaller sizes (≤ 2 min): a smoke run, not figures to quote\n" +
  "  --profile  run the processor and server children under node --cpu-prof (bench/out/profiles)\n" +
  "  --config   a JSON config overlay for every part started (diagnostics, not for the quoted figures)\nsections (run in this order):\n" +
  Object.entries(SECTIONS)
    .map(([name, s]) => `  ${name.padEnd(11)} ${s.describe}`)
    .join("\n");

// A mistyped flag, a flag without its value or a stray word: the usage and exit status 2, not a stack trace.
let parsed;
try {
  parsed = parseArgs({
    options: {
      only: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      config: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const names = values.only?.length ? Object.keys(SECTIONS).filter((n) => values.only!.includes(n)) : Object.keys(SECTIONS);
const unknown = (values.only ?? []).filter((n) => !(n in SECTIONS));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(", ")}; known: ${Object.keys(SECTIONS).join(", ")}`);
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
let overlay: object | undefined;
try {
  overlay = values.config ? (JSON.parse(values.config) as object) : undefined;
} catch (err) {
  console.error(`--config is not JSON: ${(err as Error).message}`);
  process.exit(2);
}
let ctx: BenchContext;
try {
  ctx = new BenchContext({ quick: values.quick, overlay, profileDir: values.profile ? resolve(here, "out/profiles") : undefined });
} catch (err) {
  // An overlay the configuration refuses: its keys and fixes, exit status 2.
  if (!(err instanceof ConfigError)) throw err;
  console.error(`--config: ${err.message}`);
  process.exit(2);
}

// Ctrl-C or a SIGTERM ends the bench in the middle of an await, where no section's `finally` runs:
// what they hold (servers, children, temp dirs: bench/cleanup.ts) is released here. A second signal
// leaves at once.
let stopping = false;
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const)
  process.on(signal, () => {
    if (stopping) process.exit(code);
    stopping = true;
    console.error(`\n${signal}: stopping the bench's servers and child processes, removing its temp dirs (again to leave at once)`);
    void releaseAll(15_000).finally(() => process.exit(code));
  });

const started = performance.now();
const out: Record<string, unknown> = { quick: values.quick, at: new Date().toISOString(), sections: names, configOverlay: overlay ?? null };
const machine = machineInfo(ctx.cfg.nats.serverBinary);
let failed = false;
try {
  for (const name of names) {
    const s = SECTIONS[name]!;
    const t0 = performance.now();
    console.log(`\n${name}: ${s.describe}${values.quick ? " (--quick: smoke run, not for quoting)" : ""}`);
    const r = await s.run(ctx);
    console.table(r.table);
    console.log(`(${name}: ${round((performance.now() - t0) / 1000, 1)} s)`);
    Object.assign(out, r.results);
  }
} catch (err) {
  failed = true;
  // (A section whose children a Ctrl-C ended fails too: the signal's handler is what ends the bench.)
  if (!stopping) console.error(`\nbenchmark failed: ${(err as Error).stack ?? err}`);
} finally {
  if (!stopping) await ctx.close();
}
if (stopping) await new Promise(() => undefined);
out.machine = { ...machine, loadAvgEnd: round(loadavg()[0]!, 2) };
out.seconds = round((performance.now() - started) / 1000, 1);

// Merged into what earlier runs wrote, so `--only x` updates x's keys and keeps the others'. A run
// with --config is a diagnostic and one with --quick a smoke test: each goes to its own file and leaves
// results.json as it was (a --quick run after a full one overwrote its figures with smoke figures).
const file = resolve(here, overlay ? "out/results-config.json" : values.quick ? "out/results-quick.json" : "out/results.json");
mkdirSync(dirname(file), { recursive: true });
let previous: Record<string, unknown> = {};
try {
  previous = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
} catch {
  // first run, or an unreadable file: start afresh
}
const merged = { ...previous, ...out };
writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
console.log(`\nsummary against the issues' targets (#7, #16, 24; 2 cores; figures are not asserted):`);
console.table(targets(merged, { quick: values.quick, measured: new Set(Object.keys(out)) }));
console.log(`machine: ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.natsServer}; load average ${machine.loadAvgStart} → ${round(loadavg()[0]!, 2)}`);
console.log(`wrote ${file} (${out.seconds} s)`);
process.exit(failed ? 1 : 0);
