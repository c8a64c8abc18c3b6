// The benchmark's side of bench/part-child.ts: spawn a part with a config overlay, ask it for its
// stats, stop it.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hold } from "./cleanup.ts";
import type { ChildStats, FromChild, ToChild } from "./part-child.ts";

/**
 * The environment the npm scripts and the Docker image give the parts (package.json, Dockerfile):
 * glibc returns freed memory above 128 KiB to the OS instead of raising its trim threshold as large
 * blocks come and go (measured: 342 → 286 MB RSS with 1M customers). Bench children get it too.
 */
export const PART_ENV = { MALLOC_TRIM_THRESHOLD_: "131072" } as const;

export interface PartChild {
  readonly pid: number;
  /** When the part reported itself running (epoch ms, performance clock). */
  readonly readyAtMs: number;
  /** The dashboard server's URL (server part). */
  readonly url: string | undefined;
  stats(): Promise<ChildStats>;
  /** Graceful stop (the part's own stop: flush, checkpoint); resolves with its last stats. */
  stop(): Promise<ChildStats>;
  kill(): void;
  output(): string;
}

export interface SpawnOptions {
  natsUrl: string;
  overlay: unknown;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=bench/out/profiles"]. */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

const CHILD = fileURLToPath(new URL("./part-child.ts", import.meta.url));

export async function spawnPart(part: "processor" | "server", o: SpawnOptions): Promise<PartChild> {
  const dir = mkdtempSync(join(tmpdir(), "ps-bench-"));
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(o.overlay));
  const child: ChildProcess = fork(CHILD, [part], {
    execArgv: [...(o.nodeFlags ?? []), "--import", "tsx"],
    env: { ...process.env, ...PART_ENV, NATS_URL: o.natsUrl, CONFIG_FILE: configFile, ...o.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let out = "";
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const waiters: ((m: FromChild) => boolean)[] = [];
  child.on("message", (m: FromChild) => {
    const i = waiters.findIndex((w) => w(m));
    if (i >= 0) waiters.splice(i, 1);
  });
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  // On a signal to the bench: killed, and its config dir removed once it has exited (above).
  const release = hold(() => {
    child.kill("SIGKILL");
    return exited;
  });
  void exited.then(release);
  const next = <T>(pick: (m: FromChild) => T | undefined, what: string, timeoutMs = 60_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${part} child: no ${what} within ${timeoutMs} ms\n${out.slice(-2000)}`)), timeoutMs);
      void exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`${part} child exited (${code}) before ${what}\n${out.slice(-2000)}`));
      });
      waiters.push((m) => {
        if (m.type === "error") {
          clearTimeout(t);
          reject(new Error(`${part} child: ${m.error}`));
          return true;
        }
        const v = pick(m);
        if (v === undefined) return false;
        clearTimeout(t);
        resolve(v);
        return true;
      });
    });
  const ready = await next((m) => (m.type === "ready" ? m : undefined), "ready");
  // A child that has exited cannot be asked (EPIPE): the waiter says so (it rejects on the exit), where
  // an 'error' event without a listener ended the bench on the spot, its servers and dirs left behind.
  const ask = (m: ToChild) => child.send(m, () => undefined);
  return {
    pid: child.pid!,
    readyAtMs: ready.atMs,
    url: ready.url,
    stats() {
      const p = next((m) => (m.type === "stats" ? m.stats : undefined), "stats");
      ask({ type: "stats" });
      return p;
    },
    async stop() {
      const p = next((m) => (m.type === "stopped" ? m.stats : undefined), "stopped", 120_000);
      ask({ type: "stop" });
      const s = await p;
      await exited;
      return s;
    },
    kill() {
      child.kill("SIGKILL");
    },
    output: () => out,
  };
}
