// Starts the parts of promo-stream: `all` runs the processor, the simulator and the dashboard server
// in one process; `processor`, `simulator` and `server` run one part. Without NATS_URL an embedded
// nats-server (store under ./.data/nats) is started, or reused when one already answers on NATS_PORT.
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { REPO_ROOT, type Config } from "./config/index.ts";
import { connectNats, provision, startNatsServer, type NatsServerHandle } from "./io/nats/index.ts";
import type { Logger } from "./log/index.ts";
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
