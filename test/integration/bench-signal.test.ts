// `npm run bench` stopped by a signal (Ctrl-C: SIGINT to its process group; SIGTERM to the bench
// alone, as a supervisor or `timeout` sends it) in the middle of a section: every process it started
// (nats-server, the processor, the feed) has ended and its temp dirs (nats-server's store among them)
// are gone. The bench runs with a TMPDIR of its own, so what it leaves is told from anything else.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Pids of the processes whose environment holds TMPDIR=`dir`: the bench and everything it started. */
function processesWith(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, "latin1").split("\0").includes(`TMPDIR=${dir}`)) out.push(Number(p));
    } catch {
      // ended, or not ours
    }
  }
  return out;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm run bench stopped by a signal", () => {
  it.each([
    ["Ctrl-C (SIGINT to the process group)", "SIGINT", true, 130],
    ["SIGTERM to the bench alone", "SIGTERM", false, 143],
  ] as const)("%s: no process and no temp dir left", async (_name, signal, group, code) => {
    const dir = mkdtempSync(join(tmpdir(), "ps-bench-signal-test-"));
    try {
      const bench = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick", "--only", "latency"], {
        cwd: root,
        env: { ...process.env, TMPDIR: dir },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let out = "";
      bench.stdout.on("data", (b: Buffer) => (out += b.toString()));
      bench.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((r) => bench.on("exit", (c) => r(c)));
      try {
        // The latency section under way: nats-server, the live processor, the packed feed, the feed child.
        await until("the latency feed packed", () => readdirSync(dir).some((f) => f.startsWith("ps-bench-feed-")), 90_000);
        await new Promise((r) => setTimeout(r, 2_000));
        expect(processesWith(dir).length).toBeGreaterThanOrEqual(3);
        process.kill(group ? -bench.pid! : bench.pid!, signal);
        expect(await exited, out).toBe(code);
        await until("every process the bench started ended", () => processesWith(dir).length === 0, 10_000);
        expect(readdirSync(dir).filter((f) => !f.startsWith("tsx-")), out).toEqual([]);
      } finally {
        for (const pid of processesWith(dir)) process.kill(pid, "SIGKILL");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
