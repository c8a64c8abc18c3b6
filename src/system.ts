// Starts the parts of promo-stream: `all` runs the processor, the simulator and the dashboard server
// in one process; `processor`, `simulator` and `server` run one part. Without NATS_URL an embedded
// nats-server (store under ./.data/nats) is started, or reused when one already answers on NATS_PORT.
import { createServer, type Server } from "node:http";
import { connect as tcpConnect } from "node:net";
import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigError, PS_ERR_CONFIG, REPO_ROOT, type Config } from "./config/index.ts";
import { checkPartitionCount, connectNats, provision, retryTransient, startNatsServer, withStreamLimits, type NatsServerHandle } from "./io/nats/index.ts";
import type { Logger } from "./log/index.ts";
import { createMetrics, type Metrics } from "./metrics/index.ts";
import { Processor } from "./processor/index.ts";
import { PartitionedInstance } from "./scale/index.ts";
import { AUTH_CHALLENGE, DashboardServer, HOST_REFUSED, HTTP_SERVER_OPTIONS, TOKEN_REFUSED, answerClientErrors, bodyUnread, hasToken, hostsOfOrigins, loopbackHost, portInUse, requestUrl, sendJson } from "./server/index.ts";
import { listScenarios, loadScenario, SimulatorRunner } from "../simulator/index.ts";

export const PARTS = ["all", "processor", "simulator", "server"] as const;
export type Part = (typeof PARTS)[number];

export interface Running {
  url: string | undefined;
  natsUrl: string;
  processor?: Processor;
  /** Partitioned deployments (scale.enabled): this instance's partitions. */
  instance?: PartitionedInstance;
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

/** A processor running on its own serves its metrics and health (the dashboard server is elsewhere). */
interface Reporting {
  /** Refreshes the gauges (a snapshot computes them). */
  snapshot(): unknown;
  health(): { ok: boolean; degraded?: string[] };
}

/**
 * `token`: server.token (API_TOKEN), which /metrics asks for as the dashboard server's routes do; /health is open.
 * Without a token /metrics answers only under a loopback Host (or one of `allowedHosts`, server.allowedOrigins'),
 * as the dashboard server does: a site whose name was pointed at 127.0.0.1 (DNS rebinding) read it before.
 * `reporting` is undefined until the processor has started: the port is taken first (below).
 * Its timeouts are the dashboard server's (HTTP_SERVER_OPTIONS): with Node's default 30 s check a client
 * that never finished its headers held a connection here 10 to 40 s.
 */
export function serveProcessorMetrics(reporting: () => Reporting | undefined, metrics: Metrics, host: string, port: number, token: string | undefined, log: Logger, allowedHosts: readonly string[] = []): Promise<Server> {
  const http = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
    // A target that is no URL (`GET //`) made `new URL` throw here, outside any catch: one request ended the processor.
    const url = requestUrl(req);
    const p = reporting();
    // (No route here reads a body: sendJson closes the connection of a request that sent one.)
    if (!url) {
      sendJson(res, 400, { error: "request target is not a valid path" });
    } else if (url.pathname === "/metrics" && !token && !loopbackHost(req.headers.host, allowedHosts)) {
      sendJson(res, 403, { error: HOST_REFUSED });
    } else if (url.pathname === "/metrics" && !hasToken(req, url, token)) {
      sendJson(res, 401, { error: TOKEN_REFUSED }, { "www-authenticate": AUTH_CHALLENGE });
    } else if (url.pathname === "/metrics") {
      // A failed collection (a snapshot or a collector that throws) left the request waiting for ever,
      // and the rejection unhandled.
      Promise.resolve()
        .then(() => {
          p?.snapshot();
          return metrics.registry.metrics();
        })
        .then(
          (text) => {
            if (bodyUnread(req)) res.setHeader("connection", "close");
            res.writeHead(200, { "content-type": metrics.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            log.error({ err }, "collecting the metrics failed");
            sendJson(res, 500, { error: "internal error" });
          },
        );
    } else if (url.pathname === "/health") {
      // Down for probes until the processor is consuming.
      const h = p?.health() ?? { ok: false };
      sendJson(res, h.ok ? 200 : 503, { status: !h.ok ? "down" : h.degraded?.length ? "degraded" : "ok", ...h });
    } else {
      sendJson(res, 404, { error: "not found: this port serves /metrics and /health" });
    }
  });
  answerClientErrors(http);
  return new Promise((resolve, reject) => {
    http.once("error", (err) => reject(portInUse(err, host, port, "METRICS_PORT")));
    http.listen(port, host, () => resolve(http));
  });
}

/**
 * The simulator's scenario, read before anything starts. Config validation checks only that the file
 * exists (its schema is the simulator's, which imports the config); a file there that is no valid
 * scenario made the simulator's constructor throw a plain Error after NATS was up.
 */
function checkScenario(cfg: Readonly<Config>): void {
  const name = cfg.simulator.scenario;
  try {
    loadScenario(name);
  } catch (err) {
    const usable = listScenarios().filter((n) => {
      try {
        return n !== name && loadScenario(n) !== undefined;
      } catch {
        return false;
      }
    });
    throw new ConfigError(
      PS_ERR_CONFIG.Invalid,
      [{ key: "simulator.scenario", env: "SIM_SCENARIO", problem: (err as Error).message, fix: `correct config/scenarios/${name}.json (ScenarioSchema in simulator/world/scenario.ts; config/scenarios/steady.json is one), or set SIM_SCENARIO to one of ${usable.join(", ")}` }],
      { cause: err },
    );
  }
}

/** Starts the parts asked for; resolves once everything is up. Used by `npm start` and by tests. */
export async function startSystem(part: Part, cfg: Readonly<Config>, log: Logger): Promise<Running> {
  if (part === "all" || part === "simulator") checkScenario(cfg);
  let embedded: NatsServerHandle | undefined;
  let natsUrl = cfg.nats.url;
  // Found listening on NATS_PORT, not named: when it turns out to be no NATS server, the fix is NATS_PORT
  // (the error said to check or unset NATS_URL, which the operator had not set).
  let connectFix: string | undefined;
  if (!natsUrl) {
    // NATS_PORT=0 asks for a free port: there is no server of ours to find there.
    if (cfg.nats.port !== 0 && (await listening(cfg.nats.host, cfg.nats.port))) {
      natsUrl = `nats://${cfg.nats.host}:${cfg.nats.port}`;
      connectFix = `something listens on NATS_PORT (${cfg.nats.host}:${cfg.nats.port}) that does not answer as a NATS server; set NATS_PORT to a free port for the embedded nats-server, or NATS_URL to a NATS server`;
      log.info({ url: natsUrl }, "a NATS server already answers on NATS_PORT; using it instead of starting one");
    } else {
      const storeDir = resolve(REPO_ROOT, cfg.nats.storeDir);
      // In a process group of its own: a terminal's Ctrl-C reaches every process of the foreground
      // group at once, and a server that quit then would fail the final checkpoint and lose the
      // last acks (issue 15). It is stopped last, below.
      embedded = await startNatsServer({ binary: cfg.nats.serverBinary, host: cfg.nats.host, port: cfg.nats.port, storeDir, detached: true });
      natsUrl = embedded.url;
      log.info({ url: natsUrl, storeDir, natsPid: embedded.pid }, "embedded nats-server started");
    }
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(cfg.nats, natsUrl, `promo-stream-${part}`, log, connectFix);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  // Safe start's figures count the objective: their HELP says which (cents of margin, or conversions).
  const metrics = createMetrics({ reward: cfg.bandit.reward });
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
    // What the streams hold where they keep less than config (a stream made under an older config).
    cfg = withStreamLimits(cfg, await retryTransient("provisioning", () => provision(nc, cfg, log), log));
    // The partition count against the partitioned processors' (src/io/nats/partition-count.ts): what routes
    // events (server, simulator) or takes partitions. One process that does it all alone reads every
    // partition, whatever their count.
    const takesPartitions = cfg.scale.enabled && (part === "all" || part === "processor");
    if (takesPartitions || part === "server" || part === "simulator") {
      // Retried as the rest of start-up: on a cluster the bucket a peer just made may not answer yet
      // (a 5 s timeout ended one of two processors started together on a fresh 3-node cluster).
      await retryTransient("checking the partition count", () => checkPartitionCount(nc, cfg.kv.leaseBucket, cfg.partitions, takesPartitions), log);
    }
    if (part === "all" || part === "server") {
      const server = new DashboardServer(nc, cfg, log, metrics);
      await server.start();
      running.server = server;
      running.url = server.url;
      stoppers.push(() => server.stop());
    }
    let reporting: Reporting | undefined;
    // The metrics port before the processor: a port in use stopped a processor that had already
    // restored its checkpoint, taken its leases (partitioned) and started pulling.
    if (part === "processor" && cfg.processor.metricsPort > 0) {
      const http = await serveProcessorMetrics(() => reporting, metrics, cfg.server.host, cfg.processor.metricsPort, cfg.server.token, log, hostsOfOrigins(cfg.server.allowedOrigins));
      log.info({ port: (http.address() as { port: number }).port }, "processor /metrics and /health listening");
      stoppers.push(() => new Promise<void>((r) => http.close(() => r())));
    } else if (part === "all" && cfg.processor.metricsPort > 0)
      // Set, and silently not listened on, it sent a scraper to a port nothing answered.
      log.warn({ metricsPort: cfg.processor.metricsPort, port: cfg.server.port }, "METRICS_PORT (processor.metricsPort) is for a processor run alone; here the processor's /metrics and /health are the server's, on PORT");
    if ((part === "all" || part === "processor") && cfg.scale.enabled) {
      const instance = new PartitionedInstance(nc, cfg, log, metrics);
      await instance.start();
      running.instance = reporting = instance;
      stoppers.push(() => instance.stop());
    } else if (part === "all" || part === "processor") {
      const processor = new Processor(nc, cfg, log, metrics);
      await retryTransient("starting the processor", () => processor.start(), log);
      running.processor = reporting = processor;
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
