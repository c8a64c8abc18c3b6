// The server's door (issue #9): access token, Origin check, size limits, and error bodies that tell the
// client what went wrong without showing it our insides. A real nats-server, the server part only.
import { connect, type Socket } from "node:net";
import { rawExchange } from "../../test/support/raw-http.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Running } from "../system.ts";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { engineDecision } from "../../test/support/decision.ts";
import { startParts, testConfig } from "../../test/support/system.ts";

const TOKEN = "door-test-token-0123456789";
const MAX_PAYLOAD = 1024;
const MAX_BODY = 512;

let nats: NatsServerHandle;
let sys: Running;
let base: string;
let hostPort: string;
/** Every body the server sent in these tests, checked for leaks at the end. */
const bodies: string[] = [];
/** Every line the server logged (at debug and up). */
const logLines: string[] = [];

beforeAll(async () => {
  nats = await jetstreamServer();
  sys = await startParts(
    "server",
    testConfig(nats.url, { server: { token: TOKEN, wsMaxPayloadBytes: MAX_PAYLOAD, maxRequestBytes: MAX_BODY, allowedOrigins: ["https://shop.example"] }, log: { level: "debug" } }),
    logLines,
  );
  base = sys.url!.replace(/\/$/, "");
  hostPort = new URL(base).host;
});

afterAll(async () => {
  await sys?.stop();
  await nats?.stop();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await fetch(base + path, { headers });
  const body = await r.text();
  bodies.push(body);
  return { status: r.status, body };
}

/** Sends raw bytes and returns the raw response (status line, headers and body). */
async function raw(request: string): Promise<string> {
  const { out } = await rawExchange(Number(hostPort.split(":").pop()), request);
  bodies.push(out);
  return out;
}

/** Opens a WebSocket and reports how the attempt ended: the HTTP status of a refusal, or the open socket. */
function wsAttempt(path: string, opts: { headers?: Record<string, string>; origin?: string } = {}): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${hostPort}${path}`, { headers: opts.headers ?? {}, ...(opts.origin ? { origin: opts.origin } : {}) });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once("open", () => resolve({ status: 101, ws }));
    ws.once("error", (err) => reject(err));
  });
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() })));
}

describe("access token", () => {
  it("refuses the API and metrics without the token, accepts the header or the query parameter", async () => {
    for (const p of ["/api/snapshot", "/api/promotions", "/api/decisions?limit=5", "/metrics", "/api/schema/decision.json"]) {
      const r = await get(p);
      expect(r.status, p).toBe(401);
      expect(JSON.parse(r.body).error).toMatch(/token/);
    }
    expect((await get("/api/snapshot", { authorization: "Bearer wrong-token-of-other-length" })).status).toBe(401);
    expect((await get("/api/snapshot", { authorization: `Bearer ${TOKEN.replace(/.$/, "X")}` })).status).toBe(401);
    expect((await get("/api/snapshot", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(`/api/snapshot?token=${TOKEN}`)).status).toBe(200);
    const m = await get("/metrics", { authorization: `Bearer ${TOKEN}` });
    expect(m.status).toBe(200);
    expect(m.body).toContain("ps_ws_clients");
  });

  it("says which scheme a 401 wants (WWW-Authenticate) and reads the scheme's name in any case", async () => {
    // RFC 9110 11.6.1: a 401 must carry WWW-Authenticate; 11.1: the scheme's name is case-insensitive.
    const r = await fetch(`${base}/api/clock`);
    bodies.push(await r.text());
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    const upgrade = await raw(`GET /ws HTTP/1.1\r\nHost: ${hostPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect(upgrade).toMatch(/^HTTP\/1\.1 401 [^]*\r\nWWW-Authenticate: Bearer/i);
    for (const scheme of ["bearer", "BEARER"]) expect((await get("/api/clock", { authorization: `${scheme} ${TOKEN}` })).status, scheme).toBe(200);
  });

  it("refuses a WebSocket upgrade without the token (401) and accepts one with it", async () => {
    expect((await wsAttempt("/ws")).status).toBe(401);
    expect((await wsAttempt("/ws?token=nope")).status).toBe(401);
    const ok = await wsAttempt(`/ws?token=${TOKEN}`);
    expect(ok.status).toBe(101);
    ok.ws!.close();
    const hdr = await wsAttempt("/ws", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(hdr.status).toBe(101);
    hdr.ws!.close();
  });
});

describe("Origin", () => {
  it("refuses a browser upgrade from another site (403), accepts this site and configured origins", async () => {
    expect((await wsAttempt(`/ws?token=${TOKEN}`, { origin: "https://evil.example" })).status).toBe(403);
    expect((await wsAttempt(`/ws?token=${TOKEN}`, { origin: "not a url" })).status).toBe(403);
    for (const origin of [`http://${hostPort}`, "https://shop.example"]) {
      const r = await wsAttempt(`/ws?token=${TOKEN}`, { origin });
      expect(r.status, origin).toBe(101);
      r.ws!.close();
    }
  });
});

describe("size limits", () => {
  it("closes a WebSocket that sends a message over the limit with 1009", async () => {
    const { ws } = await wsAttempt(`/ws?token=${TOKEN}`);
    const closed = closeOf(ws!);
    ws!.send(JSON.stringify({ type: "sim", cmd: "status", value: "x".repeat(MAX_PAYLOAD) }));
    const c = await closed;
    expect(c.code).toBe(1009);
  });

  it("closes a WebSocket that sends binary frames with 1003 and a reason", async () => {
    const { ws } = await wsAttempt(`/ws?token=${TOKEN}`);
    const closed = closeOf(ws!);
    ws!.send(Buffer.from([1, 2, 3]));
    const c = await closed;
    expect(c.code).toBe(1003);
    expect(c.reason).toMatch(/text/);
  });

  it("answers malformed and unknown WebSocket messages with an error frame, keeping the socket open", async () => {
    const { ws } = await wsAttempt(`/ws?token=${TOKEN}`);
    const frames: { type: string; error?: string }[] = [];
    ws!.on("message", (d) => {
      bodies.push(d.toString());
      frames.push(JSON.parse(d.toString()));
    });
    ws!.send("{not json");
    ws!.send(JSON.stringify({ type: "nope" }));
    const deadline = Date.now() + 5_000;
    while (frames.filter((f) => f.type === "error").length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const errors = frames.filter((f) => f.type === "error").map((f) => f.error);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/JSON/);
    expect(errors[1]).toMatch(/unknown type/);
    expect(ws!.readyState).toBe(WebSocket.OPEN);
    ws!.close();
  });

  it("answers 413 to a POST body over the limit, whether or not it declares its length", async () => {
    const big = JSON.stringify({ cmd: "status", pad: "y".repeat(MAX_BODY * 4) });
    const declared = await fetch(`${base}/api/sim`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: big });
    const declaredBody = await declared.text();
    bodies.push(declaredBody);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declaredBody).error).toMatch(/over 512 bytes/);
    // Chunked: no Content-Length, so the limit is enforced while reading.
    const chunks = [big.slice(0, 300), big.slice(300)].map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join("");
    const res = await raw(`POST /api/sim HTTP/1.1\r\nHost: ${hostPort}\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe("errors", () => {
  it("answers bad requests with a short JSON reason", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await get("/nowhere", auth)).status).toBe(404);
    const lim = await get("/api/decisions?limit=abc", auth);
    expect(lim.status).toBe(400);
    expect(JSON.parse(lim.body).error).toMatch(/limit/);
    const bad = await fetch(`${base}/api/sim`, { method: "POST", headers: auth, body: "{nope" });
    const badBody = await bad.text();
    bodies.push(badBody);
    expect(bad.status).toBe(400);
    // No simulator runs here: the relay times out and says so.
    const sim = await fetch(`${base}/api/sim`, { method: "POST", headers: auth, body: '{"cmd":"status"}' });
    const simBody = await sim.text();
    bodies.push(simBody);
    expect(sim.status).toBe(503);
    expect(JSON.parse(simBody).error).toMatch(/simulator did not answer/);
  });

  it("takes ?limit= only in decimal digits, as the config's integers", async () => {
    // Number() read "1e2" as 100, "0x10" as 16, " 5" as 5 and "5.0" as 5.
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const route of ["/api/decisions", "/api/outcomes"]) {
      for (const limit of ["1e2", "0x10", "+5", "%205", "5.0", "", "0", "-1"]) {
        const r = await get(`${route}?limit=${limit}`, auth);
        expect(r.status, `${route}?limit=${limit}`).toBe(400);
        expect(JSON.parse(r.body).error).toMatch(/limit must be a positive integer written in decimal digits/);
      }
      expect((await get(`${route}?limit=5`, auth)).status).toBe(200);
      expect((await get(`${route}?limit=99999999999999999999`, auth)).status, "over the feed: capped").toBe(200);
    }
  });

  it("answers a route asked with the wrong method 405 naming the method it takes, not 404", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    // A shop's developer trying POST /api/decide with GET, or a read route with POST, heard "not found" and looked for a wrong URL.
    for (const [method, path, allow] of [["GET", "/api/decide", "POST"], ["PUT", "/api/events", "POST"], ["POST", "/api/snapshot", "GET"], ["DELETE", "/api/decisions", "GET"], ["POST", "/metrics", "GET"]] as const) {
      const r = await fetch(base + path, { method, headers: auth });
      const body = await r.text();
      bodies.push(body);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(JSON.parse(body).error).toContain(`${allow} ${path}`);
    }
    // HEAD is GET without the body (RFC 9110 9.3.2), as uptime checks ask.
    const head = await fetch(`${base}/api/clock`, { method: "HEAD", headers: auth });
    expect(head.status).toBe(200);
    expect((await get("/nowhere", auth)).status).toBe(404);
  });

  it("answers a request target it cannot parse with 400, on plain requests and on upgrades, and keeps serving", async () => {
    const plain = await raw(`GET // HTTP/1.1\r\nHost: ${hostPort}\r\nConnection: close\r\n\r\n`);
    expect(plain).toMatch(/^HTTP\/1\.1 400 /);
    const upgrade = await raw(
      `GET //x:y/ws HTTP/1.1\r\nHost: ${hostPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 400 /);
    expect((await get("/api/snapshot", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it("frees the connection of a POST it refuses before reading its body, rather than read the rest", async () => {
    // A 401, 404 or 405 answered at once left the connection open: Node read and discarded the rest of
    // the body, for up to the request timeout (30 s), from a client that may never have been allowed to send it.
    for (const [target, auth, status] of [["/api/events", "", 401], ["/api/nowhere", `Authorization: Bearer ${TOKEN}\r\n`, 404], ["/api/snapshot", `Authorization: Bearer ${TOKEN}\r\n`, 405]] as const) {
      const { out, closedAfterMs } = await rawExchange(Number(hostPort.split(":").pop()), `POST ${target} HTTP/1.1\r\nHost: ${hostPort}\r\n${auth}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{"type":`, { waitMs: 2_000 });
      const closed = closedAfterMs !== Number.POSITIVE_INFINITY;
      bodies.push(out);
      expect(out, target).toMatch(new RegExp(`^HTTP/1\\.1 ${status} [^]*\r\nconnection: close\r\n`, "i"));
      expect(closed, `${target}: connection still open 2 s after the answer`).toBe(true);
    }
    // A GET (no body) keeps its connection.
    const r = await fetch(`${base}/api/nowhere`, { headers: { authorization: `Bearer ${TOKEN}` } });
    bodies.push(await r.text());
    expect(r.headers.get("connection")).not.toBe("close");
  });

  it("answers a request Node cannot parse with 400 and a short JSON, as its other errors", async () => {
    // Node's own answer was a bare "HTTP/1.1 400 Bad Request" with no body.
    for (const request of ["NOT A REQUEST\r\n\r\n", `GET /api/clock HTTP/1.1\r\nHost: ${hostPort}\r\nBad Header\r\n\r\n`, `POST /api/events HTTP/1.1\r\nHost: ${hostPort}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`]) {
      const out = await raw(request);
      expect(out, request).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*content-type: application\/json/i);
      expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)), request).toEqual({ error: expect.stringMatching(/malformed/) });
    }
    expect((await get("/api/clock", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it("never sends a stack trace, a source path or an internal module name", () => {
    expect(bodies.length).toBeGreaterThan(15);
    for (const b of bodies) {
      expect(b).not.toMatch(/\n\s+at |\.ts:\d+|node:internal|\/work\/|node_modules/);
    }
  });
});

describe("WebSocket control requests", () => {
  it("closes (1008) a socket that keeps more control requests waiting than the dashboard ever does", async () => {
    // Each sim or mode message is a NATS request with its own timeout (2 s, 5 s) and an answer sent
    // whether or not the client reads: a client sending them in a loop held thousands at once (20,000
    // in a burst: +85 MB of the server's memory until the fan-out dropped it).
    const { connect: natsConnect } = await import("@nats-io/transport-node");
    const nc = await natsConnect({ servers: nats.url });
    const silent = nc.subscribe("sim.control"); // a simulator that hears and does not answer
    try {
      const { ws } = await wsAttempt(`/ws?token=${TOKEN}`);
      const closed = closeOf(ws!);
      for (let i = 0; i < 100; i++) ws!.send(JSON.stringify({ type: "sim", cmd: "status" }));
      const c = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_500))]);
      expect(c?.code).toBe(1008);
      expect(c?.reason).toMatch(/in flight/);
    } finally {
      silent.unsubscribe();
      await nc.close();
    }
  });
});

describe("a client that goes away mid-request", () => {
  it("is no server error, and its ?token= never reaches the log", async () => {
    const s: Socket = connect({ host: "127.0.0.1", port: Number(hostPort.split(":").pop()) });
    await new Promise((r) => s.once("connect", r));
    s.on("error", () => undefined);
    // Half a body, then gone: a shop's request cut by its own timeout, or a phone that lost its network.
    s.write(`POST /api/events?token=${TOKEN} HTTP/1.1\r\nHost: ${hostPort}\r\nContent-Length: 100\r\n\r\n[{"type":`);
    await new Promise((r) => setTimeout(r, 100));
    s.destroy();
    const deadline = Date.now() + 3_000;
    while (!logLines.some((l) => l.includes("/api/events")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = logLines.filter((l) => l.includes("/api/events"));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect((JSON.parse(l) as { level: number }).level, l).toBeLessThan(40);
    expect(logLines.filter((l) => l.includes(TOKEN))).toEqual([]);
    expect((await get("/api/snapshot", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe("a client that sends its request too slowly", () => {
  it("is answered 408 and cut once headersTimeout (10 s) has passed, not up to 30 s later", async () => {
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): a request that
    // never finished its headers held its connection 10 to 40 s, one that never finished its body 30 to 60 s.
    const { out, closedAfterMs } = await rawExchange(Number(hostPort.split(":").pop()), `POST /api/decide HTTP/1.1\r\nHost: ${hostPort}\r\n`, { waitMs: 15_000 });
    expect(closedAfterMs).toBeGreaterThanOrEqual(9_900);
    expect(closedAfterMs).toBeLessThan(12_500);
    expect(out).toMatch(/^HTTP\/1\.1 408 /);
    // Errors are a short JSON, Node's own 408 included (it had no body).
    expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4))).toEqual({ error: expect.stringMatching(/10 s/) });
  }, 20_000);
});

describe("the live feed", () => {
  it("shows a decision published twice (a processor's republish after a crash) once", async () => {
    const { connect: natsConnect } = await import("@nats-io/transport-node");
    const nc = await natsConnect({ servers: nats.url });
    const d = engineDecision("feed-repeat");
    const after = engineDecision("feed-after");
    for (let i = 0; i < 2; i++) nc.publish(`decisions.${d.channel}`, new TextEncoder().encode(JSON.stringify(d)));
    nc.publish(`decisions.${after.channel}`, new TextEncoder().encode(JSON.stringify(after)));
    await nc.flush();
    const feed = await waitForFeed(2);
    expect(feed.filter((x) => x.id === "d-feed-repeat")).toHaveLength(1);
    await nc.close();
  });
});

async function waitForFeed(n: number): Promise<{ id: string }[]> {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${base}/api/decisions?limit=50`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const feed = (await r.json()) as { id: string }[] | { decisions: { id: string }[] };
    const list = Array.isArray(feed) ? feed : feed.decisions;
    if (list.some((x) => x.id === "d-feed-after") && list.length >= n) return list;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("the feed never showed the decisions");
}


describe("/health", () => {
  it("counts OUTCOMES among the streams it needs, naming it when it is missing", async () => {
    const { connect: natsConnect } = await import("@nats-io/transport-node");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const nc = await natsConnect({ servers: nats.url });
    try {
      await (await jetstreamManager(nc)).streams.delete("OUTCOMES");
      // (The server caches its stream checks for two seconds.)
      const h = await waitForHealth((b) => !b.checks.streams);
      expect(h.status).toBe("down");
      expect(h.problems.filter((p) => p.startsWith("stream "))).toEqual([expect.stringMatching(/^stream OUTCOMES: /)]);
    } finally {
      await nc.close();
    }
  });
});

describe("/health, partitioned", () => {
  it("names the partitions' consumers that are missing, not the processor's durable alone", async () => {
    const { connect: natsConnect } = await import("@nats-io/transport-node");
    const { jetstreamManager, AckPolicy } = await import("@nats-io/jetstream");
    const cfg = testConfig(nats.url, { partitions: 4, scale: { enabled: true } } as never);
    const part = await startParts("server", cfg);
    const nc = await natsConnect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      for (const k of [0, 1, 3]) await jsm.consumers.add(cfg.streams.events.name, { durable_name: `${cfg.processor.durable}-p${k}`, ack_policy: AckPolicy.All, filter_subject: `events.*.${k}` });
      const h = (await (await fetch(new URL("/health", part.url!))).json()) as Health;
      expect(h.checks.consumer).toBe(false);
      expect(h.problems.filter((p) => p.startsWith("consumer"))).toEqual([expect.stringMatching(new RegExp(`^consumer ${cfg.processor.durable}-p2: `))]);
    } finally {
      await nc.close();
      await part.stop();
    }
  });
});

interface Health {
  status: string;
  checks: Record<string, boolean>;
  problems: string[];
}

async function waitForHealth(until: (h: Health) => boolean): Promise<Health> {
  for (let i = 0; i < 100; i++) {
    const h = (await (await fetch(`${base}/health`)).json()) as Health;
    if (until(h)) return h;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("/health never reported what was expected");
}
