// Memory (issue #7 §4): RSS of the processor's state after the events of 10k, 100k and 1M distinct
// customers, with config/default.json's cache cap. One fresh child per point (bench/memory-child.ts).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { BenchContext } from "./context.ts";
import type { MemoryPoint } from "./memory-child.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./memory-child.ts", import.meta.url));

export async function benchMemory(ctx: BenchContext): Promise<MemoryPoint[]> {
  const out: MemoryPoint[] = [];
  for (const n of ctx.sizes.memoryCustomers) {
    const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, String(n)], { maxBuffer: 1 << 20, timeout: 300_000 });
    out.push(JSON.parse(stdout.trim().split("\n").pop()!) as MemoryPoint);
  }
  return out;
}
