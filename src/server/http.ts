// What the dashboard server and a lone processor's metrics port share as HTTP servers.
import type { IncomingMessage, ServerOptions } from "node:http";

/** A request's whole time to arrive, headers and body; past it, 408 and the connection closed. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** A request's time to send its headers. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Node enforces requestTimeout and headersTimeout only when it looks, every connectionsCheckingInterval
 * (30 s by default): a client that never finished its headers held its connection 10 to 40 s, its body
 * 30 to 60 s. Looking every second holds them to what they say.
 */
export const HTTP_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 });

/**
 * Whether the request has a body not yet all received. An answer given before reading it (401, 404,
 * 405, 413) then closes the connection: kept alive, Node read and discarded the rest, for up to the
 * request timeout, from a client that was refused. (Go's net/http drains up to 256 KiB and closes past
 * it; a refused request's connection is not worth keeping.)
 */
export function bodyUnread(req: IncomingMessage): boolean {
  return !req.complete && (req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0);
}
