import { readFileSync } from "node:fs";
import { connect, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { natsTlsRequired, type Config } from "../../config/index.ts";
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
    // A connection whose server stops answering (a network partition: nothing comes back, not even a
    // reset) is taken for dead after maxPingsOut unanswered pings, i.e. within
    // pingIntervalMs × (maxPingsOut + 1), and another server is dialled (issue 25: with nats.js's
    // defaults, 2 min × 2, a processor cut off from its node did not fail over while the cut lasted).
    pingInterval: cfg.pingIntervalMs,
    maxPingOut: cfg.maxPingsOut,
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
  // With tls options nats.js refuses a server that offers no TLS instead of talking in plain text.
  if (natsTlsRequired({ ...cfg, url: servers })) {
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

/** `fix`: what the error tells the operator to do, when the servers did not come from NATS_URL. */
export async function connectNats(cfg: Config["nats"], servers: string, name: string, log: Logger, fix = "start nats-server there, check NATS_URL and credentials, or unset NATS_URL to use the embedded server"): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(cfg, servers, name));
  } catch (err) {
    throw new NatsError(PS_ERR_NATS.Connect, `cannot connect to NATS at ${redactUrl(servers)}: ${(err as Error).message}; fix: ${fix}`, { cause: err });
  }
  log.info({ server: redactUrl(nc.getServer()), connection: name }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "staleConnection") {
        log.warn({ server: redactUrl(nc.getServer()), afterMs: cfg.pingIntervalMs * (cfg.maxPingsOut + 1) }, "NATS server stopped answering; closing the connection and dialling again");
        closeStaleSocket(nc);
      } else if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error" || s.type === "ldm")
        log.warn({ status: s.type, server: "server" in s ? redactUrl(String(s.server)) : undefined }, "NATS connection status");
    }
  })().catch(() => undefined);
  return nc;
}

/** The part of nats.js's connection internals closeStaleSocket reaches (not in its public types). */
interface WithTransport {
  protocol?: { transport?: { isClosed?: boolean; close(err?: Error): Promise<void> } };
}

/**
 * Closes a connection nats.js has found stale without waiting for its socket to drain. nats.js
 * (3.4, transport-node `_closed`) closes a stale connection by first writing an empty frame and
 * awaiting its callback, which never comes while the socket holds data the dead peer does not take:
 * the connection stayed open until the heal (issue 25: 11 s after it in a side test), so the client
 * neither reconnected nor failed over to another server. Closing the transport with an error skips
 * that flush (what is unsent is lost with the connection either way; our publishes are retried under
 * their msg ids and unacknowledged deliveries come again). The test with a real partition
 * (test/integration/partition.test.ts) fails if a nats.js upgrade takes this handle away.
 */
export function closeStaleSocket(nc: NatsConnection): boolean {
  const transport = (nc as unknown as WithTransport).protocol?.transport;
  if (!transport || transport.isClosed) return false;
  void transport.close(new Error("stale connection: the server stopped answering pings")).catch(() => undefined);
  return true;
}
