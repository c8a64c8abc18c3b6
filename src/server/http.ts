// What the dashboard server and a lone processor's metrics port share as HTTP servers.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

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

/**
 * A short JSON answer, as every answer of both servers is. A refusal before the body was read (401, 404,
 * 405, 413) closes the connection rather than have the rest read.
 */
export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  if (bodyUnread(res.req)) res.setHeader("connection", "close");
  res.writeHead(code, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(s);
}

/** Node's own error answers (what it sends without a 'clientError' listener), with a short JSON as ours have. */
function clientErrorAnswer(code: string | undefined): { status: number; error: string } {
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, error: `request not received whole within ${REQUEST_TIMEOUT_MS / 1000} s (its headers within ${HEADERS_TIMEOUT_MS / 1000} s)` };
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, error: "request headers too large" };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, error: "chunk extensions too large" };
    default:
      return { status: 400, error: "malformed request" };
  }
}

/**
 * Answers what Node refuses before a request reaches the handler (a malformed request, headers too
 * large, a request timeout) with a short JSON as every other error (README "HTTP API"): Node's own
 * answer has no body. As Node does, the answer is written only when the socket is writable and no
 * answer on it has begun (its headers sent), which the bytes would corrupt; the socket is closed either way.
 */
export function answerClientErrors(server: Server): void {
  /** Each connection's answers not yet finished (several when requests come pipelined). */
  const answering = new WeakMap<Duplex, Set<ServerResponse>>();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let set = answering.get(socket);
    if (!set) answering.set(socket, (set = new Set()));
    set.add(res);
    const done = () => void set.delete(res);
    res.once("finish", done);
    res.once("close", done);
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const underWay = [...(answering.get(socket) ?? [])].some((res) => res.headersSent);
    if (err.code !== "ECONNRESET" && socket.writable && !underWay) {
      const { status, error } = clientErrorAnswer(err.code);
      const body = JSON.stringify({ error });
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  });
}
