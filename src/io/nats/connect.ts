import { readFileSync } from "node:fs";
import { connect, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import type { Config } from "../../config/index.ts";
import type { Logger } from "../../log/index.ts";
import { NatsError, PS_ERR_NATS } from "./errors.ts";

/** Connection options from config: credentials and TLS come from config/env and are never logged. */
export function connectionOptions(cfg: Config["nats"], servers: string, name: string): NodeConnectionOptions {
  const o: NodeConnectionOptions = {
    servers: servers.split(",").map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: cfg.connectTimeoutMs,
    pingInterval: 10_000,
    // nats.js otherwise builds an Error per request up front to keep async stack traces: ~14% of the
    // pipeline's CPU in a profile of the processor (every JetStream publish is a request).
    noAsyncTraces: true,
  };
  if (cfg.user) {
    o.user = cfg.user;
    o.pass = cfg.pass;
  }
  if (cfg.token) o.token = cfg.token;
  if (cfg.nkeySeedFile) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(cfg.nkeySeedFile, "utf8").trim()));
  if (cfg.tls.enabled) {
    o.tls = {
      ...(cfg.tls.caFile ? { caFile: cfg.tls.caFile } : {}),
      ...(cfg.tls.certFile ? { certFile: cfg.tls.certFile } : {}),
      ...(cfg.tls.keyFile ? { keyFile: cfg.tls.keyFile } : {}),
    };
  }
  return o;
}

/** Strips credentials from a URL before it is logged. */
export function redactUrl(u: string): string {
  return u.replace(/\/\/[^@/]*@/g, "//***@");
}

export async function connectNats(cfg: Config["nats"], servers: string, name: string, log: Logger): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(cfg, servers, name));
  } catch (err) {
    throw new NatsError(
      PS_ERR_NATS.Connect,
      `cannot connect to NATS at ${redactUrl(servers)}: ${(err as Error).message}; fix: start nats-server there, check NATS_URL and credentials, or unset NATS_URL to use the embedded server`,
      { cause: err },
    );
  }
  log.info({ server: redactUrl(nc.getServer()), name }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error" || s.type === "ldm")
        log.warn({ status: s.type, server: "server" in s ? redactUrl(String(s.server)) : undefined }, "NATS connection status");
    }
  })().catch(() => undefined);
  return nc;
}
