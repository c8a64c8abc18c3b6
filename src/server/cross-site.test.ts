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

/** Opens a WebSocket with these headers; the HTTP status of a refusal, or 101. */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/ws", headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a page on another site whose name was pointed at this machine (DNS rebinding)", () => {
  // The page's origin is then http://rebind.example:<port>, and its requests go here with that Host and
  // that Origin: the Origin check finds them same-site. Chromium with --host-resolver-rules="MAP
  // rebind.example 127.0.0.1" read /api/decisions, drove /api/sim and opened /ws of a tokenless server.
  const rebound = () => ({ host: `rebind.example:${port}`, origin: `http://rebind.example:${port}` });

  it("is refused (403) without a token: the API, the WebSocket", async () => {
    expect((await send("GET", "/api/decisions?limit=1", rebound())).status).toBe(403);
    const sim = await send("POST", "/api/sim", { ...rebound(), "content-type": "application/json" }, '{"cmd":"status"}');
    expect(sim.status).toBe(403);
    expect(JSON.parse(sim.body).error).toMatch(/Host/);
    expect(await upgrade(rebound())).toBe(403);
  });

  it("is not confused with this machine's own names", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `app.localhost:${port}`]) {
      expect((await send("GET", "/api/clock", { host, origin: `http://${host}` })).status, host).toBe(200);
      expect(await upgrade({ host, origin: `http://${host}` }), host).toBe(101);
    }
    // A configured origin's host (a proxy in front that keeps the Host it was asked for).
    expect((await send("GET", "/api/clock", { host: "shop.example", origin: "https://shop.example" })).status).toBe(200);
  });
});
