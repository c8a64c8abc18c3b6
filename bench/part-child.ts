// A part of promo-stream (processor or server) in its own process, started through startSystem as
// `npm run processor|server` does, and steered by the benchmark over IPC: the part's CPU time and
// RSS are then its own, not the load generator's, and `--cpu-prof` profiles just the part.
//
// Config: config/default.json, then CONFIG_FILE (an overlay the benchmark writes), then env (NATS_URL).
// IPC: the child sends {type:"ready"} once the part runs; it answers {type:"stats"} with ChildStats
// and {type:"stop"} with {type:"stopped", stats} after a graceful stop, then exits 0.
import { loadConfig } from "../src/config/index.ts";
import { createLogger } from "../src/log/index.ts";
import { startSystem, type Part } from "../src/system.ts";
import { GcMeter } from "./gc-meter.ts";

export interface ChildStats {
  cpuUserMicros: number;
  cpuSystemMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Processor only. */
  eventsIn?: number;
  decisions?: number;
  /** Performance clock of the child, as epoch ms (performance.timeOrigin + now), for cross-process timing. */
  atMs: number;
  /** Bytes allocated on the JS heap since the child started (bench/gc-meter.ts). */
  allocatedBytes: number;
  /** Garbage collections' pauses (ms) since the previous stats. */
  gcPausesMs: number[];
  /** The kind of each (gc-meter.ts), in the same order. */
  gcPauseKinds: number[];
}

export type ToChild = { type: "stats" } | { type: "stop" };
export type FromChild = { type: "ready"; atMs: number; url: string | undefined } | { type: "stats"; stats: ChildStats } | { type: "stopped"; stats: ChildStats } | { type: "error"; error: string };

const part = process.argv[2] as Part;
const send = (m: FromChild) => process.send?.(m);

const gc = new GcMeter(() => process.memoryUsage().heapUsed);
const cfg = loadConfig();
const log = createLogger(cfg.log.level, `bench:${part}`);
const running = await startSystem(part, cfg, log).catch((err: Error) => {
  send({ type: "error", error: err.message });
  process.exit(1);
});

function stats(): ChildStats {
  const c = process.cpuUsage();
  const m = process.memoryUsage();
  const p = running.processor;
  const pauses = gc.takePauses();
  return {
    cpuUserMicros: c.user,
    cpuSystemMicros: c.system,
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    ...(p ? { eventsIn: p.snapshot().eventsIn, decisions: p.kpi.decisions } : {}),
    atMs: performance.timeOrigin + performance.now(),
    allocatedBytes: gc.allocatedBytes(),
    gcPausesMs: pauses.ms,
    gcPauseKinds: pauses.kinds,
  };
}

process.on("message", (m: ToChild) => {
  if (m.type === "stats") send({ type: "stats", stats: stats() });
  else if (m.type === "stop") {
    void running.stop().then(
      () => {
        send({ type: "stopped", stats: stats() });
        process.exit(0);
      },
      (err: Error) => {
        send({ type: "error", error: err.message });
        process.exit(1);
      },
    );
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "ready", atMs: performance.timeOrigin + performance.now(), url: running.url });
