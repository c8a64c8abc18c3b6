// Parts of promo-stream as real child processes (crash and restart tests).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../src/config/index.ts";

export interface Child {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Writes a config overlay to a temp file and returns its path (for CONFIG_FILE). */
export function configFile(overlay: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), "ps-cfg-")), "config.json");
  writeFileSync(f, JSON.stringify(overlay));
  return f;
}

/** Starts a part as `npm run <part>` would; `prefix` runs it through another command (`ip netns exec <ns>`). */
export function spawnPart(part: string, env: Record<string, string>, prefix: readonly string[] = []): Child {
  const argv = [process.execPath, "--import", "tsx", join(REPO_ROOT, "src/main.ts"), part];
  const [cmd, ...args] = [...prefix, ...argv];
  const child = spawn(cmd!, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code, sig) => res(code ?? (sig ? -1 : null))));
  return { child, output: () => out, exited, signal: (s) => child.kill(s) };
}
