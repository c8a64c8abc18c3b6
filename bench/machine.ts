// What the figures were measured on (issue #7: `machine`), and how busy it was.
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { findNatsServer } from "../src/io/nats/index.ts";

export interface Machine {
  node: string;
  natsServer: string;
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  /** 1-minute load average when the run started and ended (the machine is shared). */
  loadAvgStart: number;
  loadAvgEnd?: number;
}

export function machineInfo(binary = "nats-server"): Machine {
  const bin = findNatsServer(binary);
  let natsServer = "not found";
  if (bin) {
    try {
      natsServer = execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
    } catch (err) {
      natsServer = `${bin}: ${(err as Error).message}`;
    }
  }
  return {
    node: process.version,
    natsServer,
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    loadAvgStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}
