// The access token (server.token, env API_TOKEN): every route but /health asks for it when it is set,
// on the dashboard server and on a lone processor's metrics port alike.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/**
 * The request target as a URL, or null when it is not one (`//` or `//host:port`: `new URL` throws on
 * them). Both servers (the dashboard's and a lone processor's metrics port) read it before the token.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? "/", "http://x");
  } catch {
    return null;
  }
}

/** Every 401's error: what a request must carry. */
export const TOKEN_REFUSED = "missing or wrong access token (Authorization: Bearer <token> or ?token=)";

/** The WWW-Authenticate header every 401 carries (RFC 9110 11.6.1: a 401 must say which scheme it wants). */
export const AUTH_CHALLENGE = 'Bearer realm="promo-stream"';

/**
 * The request target for a log line: a `?token=` is a credential, and credentials never reach the log.
 * Each parameter's name is read as hasToken reads it (URLSearchParams decodes it): `?%74oken=<token>`
 * authenticates too, and a pattern on the raw text logged it in clear.
 */
export function loggableTarget(req: IncomingMessage): string {
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  if (q < 0) return target;
  const params = target
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const name = [...new URLSearchParams(pair).keys()][0] ?? "";
      return name.toLowerCase() === "token" ? `${pair.split("=")[0]}=<redacted>` : pair;
    });
  return `${target.slice(0, q + 1)}${params.join("&")}`;
}

/** Whether the request carries the token (`Authorization: Bearer <token>` or `?token=`); always, when none is set. */
export function hasToken(req: IncomingMessage, url: URL, want: string | undefined): boolean {
  if (!want) return true;
  const auth = req.headers.authorization;
  // The scheme's name is case-insensitive (RFC 9110 11.1): "bearer <token>" was refused.
  const got = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7) : url.searchParams.get("token") ?? "";
  // Digests of both, always 32 bytes: comparing the tokens themselves needed their lengths checked first
  // (timingSafeEqual throws on unequal lengths), and that early answer for a token of another length
  // let response times tell the right length. A digest's bytes say nothing of the token they come from.
  return timingSafeEqual(sha256(got), sha256(want));
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/** A tokenless server asked under a name that is not this machine's (DNS rebinding). */
export const HOST_REFUSED = "Host is not a loopback name: without API_TOKEN the server answers only as localhost, 127.0.0.1 or [::1] (or a host of server.allowedOrigins)";

/** The host names of server.allowedOrigins, which loopbackHost accepts beside loopback's. */
export function hostsOfOrigins(origins: readonly string[]): string[] {
  return origins.map((o) => new URL(o).hostname.toLowerCase());
}

/**
 * Whether a Host header names this machine by a loopback name (localhost, *.localhost, 127.x.x.x,
 * [::1]) or one of `also` (host names, e.g. those of server.allowedOrigins). A missing Host (HTTP/1.0)
 * passes: browsers always send one. For a server without a token, which binds loopback only: a page on a
 * site whose name was pointed at 127.0.0.1 (DNS rebinding) is same-origin with its own requests, so its
 * Origin passes the cross-site check, but its Host is that site's name.
 */
export function loopbackHost(host: string | undefined, also: readonly string[] = []): boolean {
  if (host === undefined || host === "") return true;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (name === "localhost" || name.endsWith(".localhost") || name === "[::1]") return true;
  // The URL parser normalised the name: 127.1 and 0x7f.1 come out as 127.0.0.1.
  if (/^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  return also.includes(name);
}
