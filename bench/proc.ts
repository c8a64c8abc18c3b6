// CPU time of another process (nats-server, a part's child) from /proc, to say what bounds a figure:
// on 2 cores shared by the server, the part and the load generator, who used how much.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** User + system CPU seconds of a process so far; NaN where /proc is not available. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}

/**
 * Seconds the threads of a process have spent runnable but waiting for a CPU (the scheduler's run
 * queue), summed over its threads (the second field of /proc/<pid>/task/<tid>/schedstat, ns); NaN
 * where schedstat is not available. Threads that ended are not counted.
 */
export function runQueueSecondsOf(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return ns / 1e9;
  } catch {
    return NaN;
  }
}

/** Measures the CPU share (1 = one core) of some processes over a window, and how long they waited for one. */
export class CpuMeter {
  private readonly start: number[];
  private readonly startWait: number[];
  private readonly t0 = performance.now();
  constructor(private readonly pids: readonly number[]) {
    this.start = pids.map(cpuSecondsOf);
    this.startWait = pids.map(runQueueSecondsOf);
  }
  /** Cores used by each pid since construction. */
  shares(): number[] {
    const wall = (performance.now() - this.t0) / 1000;
    return this.pids.map((p, i) => (cpuSecondsOf(p) - this.start[i]!) / wall);
  }
  /**
   * Each pid's threads' time waiting for a CPU since construction, per second of the window (0.5: its
   * threads together waited half a second each second). On 2 cores shared with the load generator and
   * nats-server, this is what a decision waits for beyond its own work.
   */
  waits(): number[] {
    const wall = (performance.now() - this.t0) / 1000;
    return this.pids.map((p, i) => (runQueueSecondsOf(p) - this.startWait[i]!) / wall);
  }
}
