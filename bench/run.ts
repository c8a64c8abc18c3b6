// `npm run bench [-- --only <section>] [-- --quick]`: runs the named benchmark sections, prints a
// table per section and writes everything to bench/out/results.json (git-ignored).
// A section is a function returning a JSON-ready result plus the table rows to print; add new
// sections to SECTIONS below.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { availableParallelism, loadavg } from "node:os";
import { benchDecide } from "./decide.bench.ts";

interface SectionResult {
  /** Keys merged into results.json. */
  results: Record<string, unknown>;
  /** Rows printed with console.table. */
  table: Record<string, unknown>[];
}

interface Section {
  describe: string;
  run(opts: { quick: boolean }): SectionResult | Promise<SectionResult>;
}

const SECTIONS: Record<string, Section> = {
  decide: {
    describe: "decide() µs per call (a web visit through step) at 5, 50 and 500 promotions, learned posteriors",
    run: ({ quick }) => {
      const r = benchDecide({ quick });
      const by = (k: "medianMicros" | "minMicros" | "cpuMicros") => Object.fromEntries(Object.entries(r).map(([n, t]) => [n, round(t[k])]));
      return {
        results: { decideMicrosByArms: by("medianMicros"), decideMinMicrosByArms: by("minMicros"), decideCpuMicrosByArms: by("cpuMicros") },
        table: Object.entries(r).map(([promotions, t]) => ({
          promotions: Number(promotions),
          "µs median": round(t.medianMicros),
          "µs min": round(t.minMicros),
          "µs CPU": round(t.cpuMicros),
        })),
      };
    },
  },
};

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    quick: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});

if (values.help) {
  console.log("usage: npm run bench -- [--only <section>]... [--quick]\nsections:");
  for (const [name, s] of Object.entries(SECTIONS)) console.log(`  ${name.padEnd(10)} ${s.describe}`);
  process.exit(0);
}

const names = values.only?.length ? values.only : Object.keys(SECTIONS);
const unknown = names.filter((n) => !(n in SECTIONS));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(", ")}; known: ${Object.keys(SECTIONS).join(", ")}`);
  process.exit(2);
}

const out: Record<string, unknown> = { node: process.version, quick: values.quick, at: new Date().toISOString(), cpus: availableParallelism(), loadavg: loadavg() };
for (const name of names) {
  const s = SECTIONS[name]!;
  console.log(`\n${name}: ${s.describe}${values.quick ? " (--quick: smoke run, not for quoting)" : ""}`);
  const r = await s.run({ quick: values.quick });
  console.table(r.table);
  Object.assign(out, r.results);
}

// Merged into what earlier runs wrote, so `--only x` updates x's keys and keeps the others'.
const file = resolve(dirname(fileURLToPath(import.meta.url)), "out/results.json");
mkdirSync(dirname(file), { recursive: true });
let previous: Record<string, unknown> = {};
try {
  previous = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
} catch {
  // first run, or an unreadable file: start afresh
}
writeFileSync(file, JSON.stringify({ ...previous, ...out }, null, 2) + "\n");
console.log(`\nwrote ${file}`);
