// Requests from pages on other sites. Without API_TOKEN (loopback, as `npm start` runs by default) nothing
// but the browser's own rules stands between a page the developer opens and the API: a cross-site POST
// with a "simple" content type (text/plain, a form's) needs no CORS preflight, so the browser sends it
// and the server acted on it (Chromium, a page on http://localhost:18933 with mode "no-cors": the
// simulator paused, an event stored), though the WebSocket refused the same page (Origin check).
// A real nats-server, the server part only.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../system.ts";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { startParts, testConfig } from "../../test/support/system.ts";

let nats: NatsServerHandle;
let sys: Running;
let port: number;

beforeAll(async () => {
  nats = await jetstreamServer();
  // No token: the default, loopback-only server.
  sys = await startParts("server", testConfig(nats.url, { server: { allowedOrigins: ["https://shop.example"] } }));
  port = Number(new URL(sys.url!).port);
});

afterAll(async () => {
  await sys?.stop();
  await nats?.stop();
});

/** A request with exactly these headers (fetch would add or refuse some: Origin, Host). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: { ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const event = (id: string) => JSON.stringify([{ type: "view", id, customerId: "c-cross-site" }]);

describe("a request from a page on another site", () => {
  it("is refused (403) and not acted on, as the WebSocket's upgrade is", async () => {
    // What a browser sends for fetch(…, { method: "POST", mode: "no-cors", body }) from another site.
    for (const origin of ["http://evil.example", "http://localhost:18933", "null"]) {
      const r = await send("POST", "/api/events", { host: `127.0.0.1:${port}`, origin, "content-type": "text/plain;charset=UTF-8" }, event(`xs-${origin.length}`));
      expect(r.status, origin).toBe(403);
      expect(JSON.parse(r.body).error, origin).toMatch(/server\.allowedOrigins/);
    }
    // Nothing was stored: sent again without an Origin (no browser), the event is new.
    const again = await send("POST", "/api/events", { host: `127.0.0.1:${port}`, "content-type": "application/json" }, event("xs-18"));
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).accepted).toBe(1);
    const sim = await send("POST", "/api/sim", { host: `127.0.0.1:${port}`, origin: "http://evil.example", "content-type": "text/plain" }, '{"cmd":"pause"}');
    expect(sim.status).toBe(403);
  });

  it("is served from this server's own pages, from a configured origin, and from clients that are no browser", async () => {
    const own = await send("POST", "/api/events", { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, "content-type": "application/json" }, event("xs-own"));
    expect(own.status).toBe(200);
    const configured = await send("POST", "/api/events", { host: `127.0.0.1:${port}`, origin: "https://shop.example", "content-type": "application/json" }, event("xs-conf"));
    expect(configured.status).toBe(200);
    const noBrowser = await send("GET", "/api/clock", { host: `127.0.0.1:${port}` });
    expect(noBrowser.status).toBe(200);
  });
});
