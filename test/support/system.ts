import { loadConfig, type Config } from "../../src/config/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { startSystem, type Part, type Running } from "../../src/system.ts";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Config for tests: the given NATS url, HTTP on a random port, quiet logs, plus overrides. */
export function testConfig(natsUrl: string, overrides: DeepPartial<Config> = {}): Readonly<Config> {
  const base: DeepPartial<Config> = { nats: { url: natsUrl }, server: { port: 0 }, log: { level: process.env.TEST_LOG_LEVEL ?? "silent" } as Config["log"] };
  return loadConfig({ env: {}, overrides: merge(base, overrides) });
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== "object" || a === null || Array.isArray(a) || typeof b !== "object" || b === null || Array.isArray(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}

/** Starts parts in this process; `logLines`, when given, receives every log line (JSON). */
export async function startParts(part: Part, cfg: Readonly<Config>, logLines?: string[]): Promise<Running> {
  const dest = logLines ? { write: (s: string) => void logLines.push(s) } : undefined;
  return startSystem(part, cfg, createLogger(cfg.log.level, `test:${part}`, dest));
}

/** Polls until `check` returns a truthy value or the time runs out (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
