// `node --import tsx bench/profile-summary.ts FILE.cpuprofile [N]`: the top N functions of a
// `node --cpu-prof` profile by self time and by total (inclusive) time, as text. Hand-written because
// it is thirty lines over the documented .cpuprofile JSON (Chrome DevTools Protocol Profiler.Profile)
// and the README quotes its output; DevTools or speedscope show the same profile as a flame graph.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  selfPct: number;
  totalPct: number;
}

/** Self and inclusive share of samples per function (recursion counted once per stack). */
export function summarise(p: Profile): ProfileRow[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: Node) => {
    const f = n.callFrame;
    const file = f.url ? relative(process.cwd(), f.url.replace(/^file:\/\//, "")) : "";
    return `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`.trim();
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    all += dt;
    let id: number | undefined = p.samples[i]!;
    const first = byId.get(id)!;
    self.set(label(first), (self.get(label(first)) ?? 0) + dt);
    const seen = new Set<string>();
    for (; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + dt);
    }
  }
  return [...total.keys()].map((fn) => ({ fn, selfPct: (100 * (self.get(fn) ?? 0)) / all, totalPct: (100 * total.get(fn)!) / all }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const file = process.argv[2];
  const n = Number(process.argv[3] ?? 30);
  if (!file) {
    console.error("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [N]");
    process.exit(2);
  }
  const rows = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const fmt = (r: ProfileRow) => `${r.selfPct.toFixed(1).padStart(5)}% self ${r.totalPct.toFixed(1).padStart(5)}% total  ${r.fn}`;
  console.log("by self time:");
  for (const r of [...rows].sort((a, b) => b.selfPct - a.selfPct).slice(0, n)) console.log(fmt(r));
  console.log("\nby total time:");
  for (const r of [...rows].sort((a, b) => b.totalPct - a.totalPct).slice(0, n)) console.log(fmt(r));
}
