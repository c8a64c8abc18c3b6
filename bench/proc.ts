// CPU time of another process (nats-server, a part's child) from /proc, to say what bounds a figure:
// on 2 cores shared by the server, the part and the load generator, who used how much.
import { readFileSync } from "node:fs";

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

/** Measures the CPU share (1 = one core) of some processes over a window. */
export class CpuMeter {
  private readonly start: number[];
  private readonly t0 = performance.now();
  constructor(private readonly pids: readonly number[]) {
    this.start = pids.map(cpuSecondsOf);
  }
  /** Cores used by each pid since construction. */
  shares(): number[] {
    const wall = (performance.now() - this.t0) / 1000;
    return this.pids.map((p, i) => (cpuSecondsOf(p) - this.start[i]!) / wall);
  }
}
