// Memory, checkpoints and recovery (issues #7 §4, #16): RSS of the processor's state with N distinct
// customers all cached, what a checkpoint costs at that size when 1% of them changed, and what a restore
// costs. One fresh child per point (bench/memory-child.ts says how each point is filled).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PART_ENV } from "./children.ts";
import { hold } from "./cleanup.ts";
import type { BenchContext } from "./context.ts";
import type { MemoryPoint } from "./memory-child.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./memory-child.ts", import.meta.url));

export async function benchMemory(ctx: BenchContext): Promise<MemoryPoint[]> {
  const out: MemoryPoint[] = [];
  for (const [n, fill] of ctx.sizes.memoryCustomers) {
    const child = run(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, String(n), fill], { maxBuffer: 1 << 20, timeout: 600_000, env: { ...process.env, ...PART_ENV } });
    const release = hold(() => child.child.kill("SIGKILL"));
    const { stdout } = await child.finally(release);
    out.push(JSON.parse(stdout.trim().split("\n").pop()!) as MemoryPoint);
  }
  return out;
}
