// Entry point: `all` (default) runs the processor, the simulator and the dashboard server in one
// process; `processor`, `simulator` and `server` run one part. Without NATS_URL an embedded
// nats-server (store under ./.data/nats) is started, or reused when one already answers on NATS_PORT.
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigError, loadConfig, REPO_ROOT, type Config } from "./config/index.ts";
import { connectNats, provision, startNatsServer, NatsError, type NatsServerHandle } from "./io/nats/index.ts";
import { createLogger, type Logger } from "./log/index.ts";
import { createMetrics } from "./metrics/index.ts";
import { Processor } from "./processor/index.ts";
import { DashboardServer } from "./server/index.ts";
import { SimulatorRunner } from "../simulator/index.ts";

export const PARTS = ["all", "processor", "simulator", "server"] as const;
export type Part = (typeof PARTS)[number];

export interface Running {
  url: string | undefined;
  natsUrl: string;
  processor?: Processor;
  simulator?: SimulatorRunner;
  server?: DashboardServer;
  stop(): Promise<void>;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect({ host, port }, () => {
      s.destroy();
      res(true);
    });
    s.on("error", () => res(false));
  });
}

/** Starts the parts asked for; resolves once everything is up. Used by `npm start` and by tests. */
export async function startSystem(part: Part, cfg: Readonly<Config>, log: Logger): Promise<Running> {
  let embedded: NatsServerHandle | undefined;
  let natsUrl = cfg.nats.url;
  if (!natsUrl) {
    if (await listening(cfg.nats.host, cfg.nats.port)) {
      natsUrl = `nats://${cfg.nats.host}:${cfg.nats.port}`;
      log.info({ url: natsUrl }, "a NATS server already answers on NATS_PORT; using it instead of starting one");
    } else {
      const storeDir = resolve(REPO_ROOT, cfg.nats.storeDir);
      embedded = await startNatsServer({ binary: cfg.nats.serverBinary, host: cfg.nats.host, port: cfg.nats.port, storeDir });
      natsUrl = embedded.url;
      log.info({ url: natsUrl, storeDir }, "embedded nats-server started");
    }
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(cfg.nats, natsUrl, `promo-stream-${part}`, log);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const metrics = createMetrics();
  const running: Running = { url: undefined, natsUrl, stop: async () => undefined };
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) {
      try {
        await s();
      } catch (err) {
        log.warn({ err: (err as Error).message }, "error while stopping");
      }
    }
    if (!nc.isClosed()) await nc.drain().catch(() => undefined);
    await embedded?.stop();
    log.info("stopped");
  };
  running.stop = stop;
  try {
    await provision(nc, cfg, log);
    if (part === "all" || part === "server") {
      const server = new DashboardServer(nc, cfg, log, metrics);
      await server.start();
      running.server = server;
      running.url = server.url;
      stoppers.push(() => server.stop());
    }
    if (part === "all" || part === "processor") {
      const processor = new Processor(nc, cfg, log, metrics);
      await processor.start();
      running.processor = processor;
      stoppers.push(() => processor.stop());
    }
    if (part === "all" || part === "simulator") {
      const sim = new SimulatorRunner(nc, cfg, log);
      await sim.start();
      running.simulator = sim;
      stoppers.push(() => sim.stop());
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return running;
}

async function main(): Promise<void> {
  const part = (process.argv[2] ?? "all") as Part;
  if (part === "simulator" && process.argv[3] === "replay") {
    // `npm run simulator -- replay --format <name> FILE`: publish a real log (simulator/replay).
    const { replayCli } = await import("../simulator/replay/cli.ts");
    process.exit(await replayCli(process.argv.slice(4)));
  }
  if (!PARTS.includes(part)) {
    console.error(`unknown part '${part}'; use one of ${PARTS.join(", ")}`);
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
  let running: Running;
  try {
    running = await startSystem(part, cfg, log);
  } catch (err) {
    if (err instanceof NatsError || (err instanceof Error && /port .* in use/.test(err.message))) {
      console.error(`promo-stream: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  if (running.url) console.log(`\n  promo-stream dashboard: ${running.url}\n  NATS: ${running.natsUrl}\n  Ctrl-C stops everything.\n`);
  else console.log(`\n  promo-stream ${part} running; NATS: ${running.natsUrl}\n`);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) {
      console.error(`second ${sig}: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log.info({ signal: sig }, "shutting down");
    running
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
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
