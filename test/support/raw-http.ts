// HTTP spoken over a bare socket, for what fetch cannot send or see: a malformed request, one whose
// headers never end, an answer Node writes itself.
import { connect } from "node:net";

/**
 * Writes `request` (then `later`, 100 ms on) to 127.0.0.1:`port`; resolves with what came back and when
 * the server closed the connection (Infinity when it had not after `waitMs`, the socket then cut).
 */
export async function rawExchange(port: number, request: string, o: { later?: string; waitMs?: number } = {}): Promise<{ out: string; closedAfterMs: number }> {
  const t0 = Date.now();
  const s = connect({ host: "127.0.0.1", port });
  s.on("error", () => undefined);
  await new Promise((r) => s.once("connect", r));
  let out = "";
  s.on("data", (b: Buffer) => (out += b.toString()));
  s.write(request);
  if (o.later !== undefined) setTimeout(() => s.write(o.later!), 100).unref();
  const closedAfterMs = await new Promise<number>((r) => {
    s.once("close", () => r(Date.now() - t0));
    setTimeout(() => {
      s.destroy();
      r(Number.POSITIVE_INFINITY);
    }, o.waitMs ?? 3_000).unref();
  });
  return { out, closedAfterMs };
}
