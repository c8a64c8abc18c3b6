// Soak of the dashboard page: the whole system (real nats-server, processor, simulator, server) at a
// given speed, the page open in headless Chromium at 1366×768 for a while, and every SAMPLE_SEC the
// page's frame rate (requestAnimationFrame callbacks per second), main-thread busy share, long tasks,
// JS heap and DOM size, from CDP Performance.getMetrics. Not part of `npm test`.
//
//   node --import tsx test/measure/page-soak.ts            # 10 minutes at 10×
//   SOAK_MINUTES=1 SOAK_SPEED=100 node --import tsx test/measure/page-soak.ts
//
// Writes test-output/page-soak.json (git-ignored) and prints a table.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, testOutputDir } from "../support/chromium.ts";
import { jetstreamServer } from "../support/nats-server.ts";
import { startParts, testConfig } from "../support/system.ts";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const SPEED: number | "max" = process.env.SOAK_SPEED === "max" ? "max" : Number(process.env.SOAK_SPEED ?? 10);
const SAMPLE_SEC = Number(process.env.SOAK_SAMPLE_SEC ?? 30);
/** Optional: KPI snapshots more often than the default, to fill the charts sooner. */
const SNAPSHOT_MS = process.env.SOAK_SNAPSHOT_MS ? Number(process.env.SOAK_SNAPSHOT_MS) : undefined;
/** Optional: a CPU profile of the page over the last N seconds; prints the top functions by self time. */
const PROFILE_SEC = Number(process.env.SOAK_PROFILE_SEC ?? 0);

interface Sample {
  atSec: number;
  fps: number;
  /** Share of wall time the page's main thread was busy (CDP TaskDuration). */
  busy: number;
  scriptSec: number;
  longTasks: number;
  heapUsedMB: number;
  heapTotalMB: number;
  nodes: number;
  listeners: number;
  decisions: number;
  chartPoints: number;
}

const nats = await jetstreamServer();
const sys = await startParts("all", testConfig(nats.url, { simulator: { speed: SPEED }, ...(SNAPSHOT_MS ? { processor: { snapshotEveryMs: SNAPSHOT_MS } } : {}) }));
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
const errors: string[] = [];
page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
page.on("pageerror", (e) => errors.push(e.message));
const cdp = await page.context().newCDPSession(page);
await cdp.send("Performance.enable", { timeDomain: "timeTicks" });
await page.goto(sys.url!);

// Page-side counters: frames drawn and long tasks (> 50 ms) seen.
await page.evaluate(`(() => {
  window.__soak = { frames: 0, longTasks: 0 };
  const tick = () => { window.__soak.frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((l) => { window.__soak.longTasks += l.getEntries().length; }).observe({ entryTypes: ["longtask"] });
})()`);

type Counters = { t: number; frames: number; longTasks: number; decisions: number; chartPoints: number };
const counters = () =>
  page.evaluate(`(() => {
    const app = document.querySelector("ps-app").shadowRoot;
    const pts = [...app.querySelectorAll("ps-chart")].reduce((n, c) => n + Number(c.dataset.points || 0), 0);
    return { t: performance.now(), frames: window.__soak.frames, longTasks: window.__soak.longTasks, decisions: Number(app.querySelector("#decision-count").textContent), chartPoints: pts };
  })()`) as Promise<Counters>;

async function metrics(): Promise<Record<string, number>> {
  const r = (await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
  return Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
}

const samples: Sample[] = [];
const t0 = Date.now();
let prevC = await counters();
let prevM = await metrics();
console.log(`page soak: ${MINUTES} min at ${SPEED}×, a sample every ${SAMPLE_SEC} s`);
console.log("   t(s)   fps  busy  script(s)  long  heapMB(used/total)  nodes  listeners  decisions  chartPoints");
while (Date.now() - t0 < MINUTES * 60_000) {
  await new Promise((r) => setTimeout(r, Math.min(SAMPLE_SEC * 1000, MINUTES * 60_000 - (Date.now() - t0))));
  const c = await counters();
  const m = await metrics();
  const now = Date.now();
  // Both rates over the page's own clock: the test process may be slow to ask.
  const s: Sample = {
    atSec: Math.round((now - t0) / 1000),
    fps: ((c.frames - prevC.frames) * 1000) / (c.t - prevC.t),
    busy: (m.TaskDuration! - prevM.TaskDuration!) / (m.Timestamp! - prevM.Timestamp!),
    scriptSec: m.ScriptDuration! - prevM.ScriptDuration!,
    longTasks: c.longTasks - prevC.longTasks,
    heapUsedMB: m.JSHeapUsedSize! / 2 ** 20,
    heapTotalMB: m.JSHeapTotalSize! / 2 ** 20,
    nodes: m.Nodes!,
    listeners: m.JSEventListeners!,
    decisions: c.decisions,
    chartPoints: c.chartPoints,
  };
  samples.push(s);
  console.log(
    `${String(s.atSec).padStart(7)} ${s.fps.toFixed(1).padStart(5)} ${(s.busy * 100).toFixed(0).padStart(4)}% ${s.scriptSec.toFixed(2).padStart(9)} ${String(s.longTasks).padStart(5)}  ${s.heapUsedMB.toFixed(1).padStart(8)} / ${s.heapTotalMB.toFixed(1).padEnd(8)} ${String(s.nodes).padStart(6)} ${String(s.listeners).padStart(10)} ${String(s.decisions).padStart(10)} ${String(s.chartPoints).padStart(12)}`,
  );
  prevC = c;
  prevM = m;
}

if (PROFILE_SEC > 0) {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  await new Promise((r) => setTimeout(r, PROFILE_SEC * 1000));
  const { profile } = (await cdp.send("Profiler.stop")) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byName = new Map<string, number>();
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber}`;
    byName.set(key, (byName.get(key) ?? 0) + us);
  }
  console.log(`\ntop self time over ${PROFILE_SEC} s:`);
  for (const [k, us] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}

// Heap that survives a full collection: what the page really holds after the run.
await cdp.send("HeapProfiler.enable");
await cdp.send("HeapProfiler.collectGarbage");
const after = await metrics();
const summary = {
  minutes: MINUTES,
  speed: SPEED,
  chromium: browser.version(),
  cpus: (await import("node:os")).cpus().length,
  loadavg: (await import("node:os")).loadavg(),
  samples,
  lastMinute: samples.filter((s) => s.atSec > MINUTES * 60 - 60),
  heapUsedAfterGcMB: after.JSHeapUsedSize! / 2 ** 20,
  nodesAfterGc: after.Nodes,
  consoleErrors: errors,
};
const fpsAll = samples.map((s) => s.fps);
console.log(
  `\nfps min/median/max ${Math.min(...fpsAll).toFixed(1)} / ${fpsAll.sort((a, b) => a - b)[Math.floor(fpsAll.length / 2)]!.toFixed(1)} / ${Math.max(...fpsAll).toFixed(1)}; heap after GC ${summary.heapUsedAfterGcMB.toFixed(1)} MB; console errors ${errors.length}`,
);
writeFileSync(join(testOutputDir(), "page-soak.json"), JSON.stringify(summary, null, 2));
await browser.close();
await sys.stop();
await nats.stop();
