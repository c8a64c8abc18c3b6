// The access token (server.token, env API_TOKEN): every route but /health asks for it when it is set,
// on the dashboard server and on a lone processor's metrics port alike.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** Whether the request carries the token (`Authorization: Bearer <token>` or `?token=`); always, when none is set. */
export function hasToken(req: IncomingMessage, url: URL, want: string | undefined): boolean {
  if (!want) return true;
  const auth = req.headers.authorization;
  const got = auth?.startsWith("Bearer ") ? auth.slice(7) : url.searchParams.get("token") ?? "";
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}
