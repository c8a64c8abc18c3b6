import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { hasToken, loggableTarget, loopbackHost, requestUrl } from "./auth.ts";

const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
const TOKEN = "s3cret-token-value";

describe("loggableTarget", () => {
  it("never lets a token that authenticates reach the log, however its name is written", () => {
    for (const target of [
      `/api/events?token=${TOKEN}`,
      `/api/events?limit=5&token=${TOKEN}`,
      // URLSearchParams decodes the name: each of these authenticates as ?token= does.
      `/api/events?%74oken=${TOKEN}`,
      `/api/events?to%6Ben=${TOKEN}&limit=5`,
      `/ws?%74%6F%6B%65%6E=${TOKEN}`,
    ]) {
      const r = req(target);
      expect(hasToken(r, requestUrl(r)!, TOKEN), target).toBe(true);
      expect(loggableTarget(r), target).not.toContain(TOKEN);
      expect(loggableTarget(r), target).toContain("<redacted>");
    }
  });

  it("keeps the rest of the target as it was", () => {
    expect(loggableTarget(req(`/api/decisions?limit=5&token=${TOKEN}&x=1`))).toBe("/api/decisions?limit=5&token=<redacted>&x=1");
    expect(loggableTarget(req("/api/decisions?limit=5"))).toBe("/api/decisions?limit=5");
    expect(loggableTarget(req("/api/snapshot"))).toBe("/api/snapshot");
  });
});

// The comparison is of SHA-256 digests (fixed length), so a token of another length is refused by the
// same constant-time comparison as one of the right length. No timing test: the difference was a
// length check's early return, nanoseconds beside an HTTP request's jitter, which no test on a shared
// machine measures reliably; what a test can hold is that the answers stayed right.
describe("hasToken", () => {
  it("accepts the token, in the header or the query, and refuses any other, of its length or not", () => {
    const asked = (got: string) => {
      const byHeader = req("/api/snapshot", { authorization: `Bearer ${got}` });
      const byQuery = req(`/api/snapshot?token=${encodeURIComponent(got)}`);
      return [hasToken(byHeader, requestUrl(byHeader)!, TOKEN), hasToken(byQuery, requestUrl(byQuery)!, TOKEN)];
    };
    expect(asked(TOKEN)).toEqual([true, true]);
    for (const other of ["", "s", TOKEN.slice(0, -1), `${TOKEN}x`, `${TOKEN}${TOKEN}`, TOKEN.replace(/.$/, "X"), TOKEN.toUpperCase(), `${TOKEN}\u0000`, "é".repeat(TOKEN.length / 2)])
      expect(asked(other), JSON.stringify(other)).toEqual([false, false]);
    // No token sent at all.
    expect(hasToken(req("/api/snapshot"), requestUrl(req("/api/snapshot"))!, TOKEN)).toBe(false);
    // None set: every request passes.
    expect(hasToken(req("/api/snapshot"), requestUrl(req("/api/snapshot"))!, undefined)).toBe(true);
  });
});

describe("loopbackHost", () => {
  it("takes this machine's loopback names, with or without a port, and no Host at all", () => {
    for (const h of ["localhost", "localhost:8080", "LOCALHOST:8080", "app.localhost:1", "127.0.0.1:8080", "127.1:8080", "127.9.9.9", "[::1]:8080", undefined, ""]) expect(loopbackHost(h), String(h)).toBe(true);
  });

  it("refuses any other name, a name that only starts like one, and what is no host", () => {
    for (const h of ["rebind.example:8080", "localhost.rebind.example", "127.0.0.1.nip.io:8080", "192.0.2.2:8080", "0.0.0.0:8080", "[::]:8080", "a b", "x/y@z"]) expect(loopbackHost(h), h).toBe(false);
  });

  it("takes the hosts it is also given", () => {
    expect(loopbackHost("shop.example", ["shop.example"])).toBe(true);
    expect(loopbackHost("shop.example:443", ["shop.example"])).toBe(true);
    expect(loopbackHost("other.example", ["shop.example"])).toBe(false);
  });
});
