// Network partitions, many times over (issue 25's targets): each run cuts the link between a processor
// and nats-server for a while as a producer keeps publishing (test/support/partition.ts), and counts
// decision points lost and decided twice, and the time to decide again after the heal.
//
//   node --import tsx test/measure/partition-soak.ts --runs 10 --cuts 5,15,60 --deployments single,partitioned [--parallel 3]
//
// Prints one line per run and a table per cut × deployment; writes test-output/partition-soak.json.
// Needs root (network namespaces).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { testOutputDir } from "../support/chromium.ts";
import { netlabAvailable } from "../support/netlab.ts";
import { runCut, type CutResult, type Deployment } from "../support/partition.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    cuts: { type: "string", default: "5,15,60" },
    deployments: { type: "string", default: "single,partitioned" },
    parallel: { type: "string", default: "3" },
    points: { type: "string", default: "3000" },
  },
});
if (!netlabAvailable()) {
  console.error("partition-soak needs root and iproute2 (network namespaces)");
  process.exit(2);
}
const runs = Number(values.runs);
const cuts = values.cuts.split(",").map(Number);
const deployments = values.deployments.split(",") as Deployment[];
const jobs: { cutMs: number; deployment: Deployment; run: number }[] = [];
for (let run = 1; run <= runs; run++) for (const c of cuts) for (const deployment of deployments) jobs.push({ cutMs: c * 1000, deployment, run });

const results: (CutResult & { run: number; error?: string })[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < jobs.length) {
    const j = jobs[next++]!;
    const label = `soak-${j.deployment}-${j.cutMs / 1000}s-${j.run}`;
    try {
      const r = await runCut({ cutMs: j.cutMs, deployment: j.deployment, points: Number(values.points), label });
      results.push({ ...r, run: j.run });
      console.log(
        `${label}: decided ${r.decided}/${r.points}, lost ${r.lost}, twice ${r.twice}, deciding again ${(r.decidingAgainMs / 1000).toFixed(1)} s, /health ok after ${r.healthOkAfterMs === undefined ? "never" : `${(r.healthOkAfterMs / 1000).toFixed(1)} s`}, flaps ${r.healthFlaps} (${r.healthNoAnswer} unanswered), reported lost ${r.reportedLost}`,
      );
    } catch (err) {
      console.log(`${label}: FAILED ${(err as Error).message}`);
      results.push({ deployment: j.deployment, cutMs: j.cutMs, run: j.run, points: 0, decided: 0, lost: Number.NaN, twice: Number.NaN, decidingAgainMs: Number.NaN, healthOkAfterMs: undefined, healthFlaps: 0, healthNoAnswer: 0, reportedLost: 0, notes: [], error: (err as Error).message });
    }
  }
}
await Promise.all(Array.from({ length: Number(values.parallel) }, worker));

const range = (xs: number[]) => (xs.length ? (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`) : "–");
const secs = (xs: number[]) => (xs.length ? `${(Math.min(...xs) / 1000).toFixed(1)}–${(Math.max(...xs) / 1000).toFixed(1)} s` : "–");
console.log("\n| cut | deployment | runs | lost | decided twice | deciding again after the heal | /health 200 after the heal | flaps |");
console.log("|---|---|---|---|---|---|---|---|");
for (const c of cuts)
  for (const d of deployments) {
    const rs = results.filter((r) => r.cutMs === c * 1000 && r.deployment === d && !r.error);
    const failed = results.filter((r) => r.cutMs === c * 1000 && r.deployment === d && r.error).length;
    console.log(
      `| ${c} s | ${d} | ${rs.length}${failed ? ` (+${failed} failed)` : ""} | ${range(rs.map((r) => r.lost))} | ${range(rs.map((r) => r.twice))} | ${secs(rs.map((r) => r.decidingAgainMs))} | ${secs(rs.flatMap((r) => (r.healthOkAfterMs === undefined ? [] : [r.healthOkAfterMs])))} | ${range(rs.map((r) => r.healthFlaps))} |`,
    );
  }
writeFileSync(join(testOutputDir(), "partition-soak.json"), JSON.stringify(results, null, 2));
process.exit(results.some((r) => r.error || r.lost > 0 || r.twice > 0) ? 1 : 0);
