// Entry point of `npm start` / `npm run processor|simulator|server`. The configuration is read and
// validated before anything else is loaded, so a bad value fails at once, naming the key and the fix.
import { resolve } from "node:path";
import { readFileSync } from "node:fs";
import { ConfigError, DEFAULT_CONFIG_FILE, ENV_KEYS, loadConfig, type Config } from "./config/index.ts";
import { createLogger } from "./log/index.ts";

const PARTS = ["all", "processor", "simulator", "server"] as const;
/** A signal repeated within this many ms of the first is the same Ctrl-C (see shutdown). */
const REPEAT_WINDOW_MS = 1_000;
const SHUTDOWN_LIMIT_MS = 30_000;
type Part = (typeof PARTS)[number];

/**
 * What a person reads once everything is up. With API_TOKEN set the dashboard's address needs
 * `?token=`: the line shows where it goes, but not the token itself, which is a credential like NATS's
 * (never logged: this output ends up in terminals' scrollback, `docker logs` and journals).
 */
export function startBanner(part: string, url: string | undefined, natsUrl: string, tokenSet: boolean): string {
  if (!url) return `\n  promo-stream ${part} running; NATS: ${natsUrl}\n`;
  const dashboard = tokenSet ? `${url}?token=<API_TOKEN>\n    (API_TOKEN is set: open the page with its value after ?token=)` : url;
  return `\n  promo-stream dashboard: ${dashboard}\n  NATS: ${natsUrl}\n  Ctrl-C stops everything.\n`;
}

/**
 * What to say about arguments after a part, or undefined when there are none. A part takes none (its
 * settings are the environment's and CONFIG_FILE's): they were ignored, so `simulator --speed 100` ran
 * at speed 1, and a mistyped `simulator rplay log.csv` ran the simulator into the shop's stream.
 */
export function unexpectedArguments(part: string, args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  const hint =
    part === "simulator"
      ? "set SIM_SPEED, SIM_SCENARIO or SIM_SEED instead, e.g. SIM_SPEED=100 npm run simulator; to publish a log: npm run simulator -- replay --format <name> FILE"
      : "set the environment variables of README's \"Configuration\" (or CONFIG_FILE) instead, e.g. METRICS_PORT=9464 npm run processor; --help lists them";
  return `unexpected argument '${args.join(" ")}' after '${part}': the parts take no arguments; ${hint}`;
}

const HELP_FLAGS = new Set(["--help", "-h"]);

/**
 * `--help` after npm start or a part: what runs, and the environment variables every part reads, each with
 * its key and its default (from ENV_KEYS and config/default.json, so it cannot drift from them).
 */
export function usage(): string {
  const defaults = JSON.parse(readFileSync(DEFAULT_CONFIG_FILE, "utf8")) as Record<string, unknown>;
  const at = (key: string): unknown => key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], defaults);
  const shown = (key: string, v: unknown) => (key === "scale.instanceId" && v === "" ? "(host-pid)" : v === "" ? "(empty)" : String(v));
  const rows = Object.entries(ENV_KEYS).map(([name, key]) => [name, key, shown(key, at(key))] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
  const w1 = Math.max(...rows.map((r) => r[1].length)) + 2;
  return [
    "usage: npm start                                everything in one process: processor, simulator and the dashboard server",
    "       npm run processor | simulator | server   one part, against a shared NATS",
    "       npm run simulator -- replay --help       publish a real log onto the bus (its own options)",
    "",
    "The parts take no arguments. Their settings: config/default.json, a JSON file named by CONFIG_FILE merged",
    "over it, then these environment variables (README, \"Configuration\"), e.g. SIM_SPEED=100 npm run simulator:",
    "",
    `  ${"variable".padEnd(w0)}${"key".padEnd(w1)}default`,
    ...rows.map(([name, key, dflt]) => `  ${name.padEnd(w0)}${key.padEnd(w1)}${dflt}`),
    "",
    "Exit status: 0 stopped in order (Ctrl-C, SIGTERM), 1 a failure, 2 a bad argument or configuration; 130 or 143 after",
    "Ctrl-C or SIGTERM during start-up, 130 after a second Ctrl-C.",
  ].join("\n");
}

async function main(): Promise<void> {
  const part = (process.argv[2] ?? "all") as Part;
  if (part === "simulator" && process.argv[3] === "replay") {
    // `npm run simulator -- replay --format <name> FILE`: publish a real log (simulator/replay).
    const { replayCli } = await import("../simulator/index.ts");
    process.exit(await replayCli(process.argv.slice(4)));
  }
  if (process.argv.slice(2).some((a) => HELP_FLAGS.has(a))) {
    console.log(usage());
    process.exit(0);
  }
  if (!PARTS.includes(part)) {
    console.error(`unknown part '${part}'; use one of ${PARTS.join(", ")}`);
    process.exit(2);
  }
  const extra = unexpectedArguments(part, process.argv.slice(3));
  if (extra) {
    console.error(extra);
    process.exit(2);
  }
  let cfg: Readonly<Config>;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(cfg.log.level, `promo-stream:${part}`);
  const { startSystem } = await import("./system.ts");
  const { NatsError } = await import("./io/nats/index.ts");
  const { ServerError } = await import("./server/index.ts");
  // A signal before start-up has finished (nothing to stop in order yet) exits at once, through
  // process.exit, whose exit hook kills an embedded nats-server: with Node's default action the process
  // ended without running it, and the server, in a process group of its own, went on holding the store
  // and NATS_PORT.
  const duringStart = (sig: NodeJS.Signals) => {
    console.error(`${sig} during start-up: exiting (events not acknowledged yet are delivered again at the next start)`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", duringStart);
  process.on("SIGTERM", duringStart);
  let running: Awaited<ReturnType<typeof startSystem>>;
  try {
    running = await startSystem(part, cfg, log);
  } catch (err) {
    if (err instanceof NatsError || err instanceof ServerError) {
      console.error(`promo-stream: ${err.message}`);
      process.exit(1);
    }
    // Found only once connected (the partition count against the running processors'), or when the
    // simulator's scenario file, which config validation only finds, is read before connecting.
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  process.removeListener("SIGINT", duringStart);
  process.removeListener("SIGTERM", duringStart);
  console.log(startBanner(part, running.url, running.natsUrl, cfg.server.token !== undefined && cfg.server.token !== ""));
  let stoppingSinceMs: number | undefined;
  const shutdown = (sig: string) => {
    if (stoppingSinceMs !== undefined) {
      // One Ctrl-C can arrive twice: the terminal signals the whole foreground group, and npm
      // forwards the signal it got to its child (this process) as well. A person's second Ctrl-C
      // comes later than that.
      if (Date.now() - stoppingSinceMs < REPEAT_WINDOW_MS) return;
      console.error(`second ${sig}: exiting now`);
      process.exit(130);
    }
    stoppingSinceMs = Date.now();
    log.info({ signal: sig }, "shutting down");
    // Stopping in order takes well under a second (test/integration/ctrl-c.test.ts); if a part hangs
    // anyway (NATS_URL points at a server that went away), give up rather than ignore Ctrl-C.
    setTimeout(() => {
      log.error({ afterMs: SHUTDOWN_LIMIT_MS }, "shutdown did not finish; exiting (unacknowledged events will be redelivered)");
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    running
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  // A promise rejected with nobody listening is a bug, but taking the whole processor down for it
  // (a request that timed out while a NATS node restarted) loses more than it protects: log it loudly.
  process.on("unhandledRejection", (reason) => log.error({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : reason }, "unhandled rejection"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]).endsWith("src/main.ts");
if (isMain || process.env.PS_MAIN === "1") {
  main().catch((err) => {
    console.error("promo-stream failed to start:", err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
