// HTTP (dashboard, JSON API, health, metrics) and the WebSocket fan-out.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { WebSocketServer, type WebSocket } from "ws";
import { REPO_ROOT, type Config } from "../config/index.ts";
import { DecisionSchema, EventSchema, OutcomeSchema } from "../events/index.ts";
import type { Logger } from "../log/index.ts";
import type { Metrics } from "../metrics/index.ts";
import { bundleDashboard, type Bundle } from "./bundle.ts";
import { DecideService, type DecideResult } from "./decide.ts";
import { EventIntake, NOT_STORED, type IntakeResult } from "./intake.ts";
import { simCommand } from "./sim-command.ts";
import { trackBody } from "./track.ts";
import { Fanout } from "./fanout.ts";
import { Hub } from "./hub.ts";
import { portInUse } from "./errors.ts";
import { HTTP_SERVER_OPTIONS, answerClientErrors, sendJson } from "./http.ts";
import { AUTH_CHALLENGE, HOST_REFUSED, TOKEN_REFUSED, hasToken, hostsOfOrigins, loggableTarget, loopbackHost, requestUrl } from "./auth.ts";

export interface HealthReport {
  status: "ok" | "degraded" | "down";
  checks: { nats: boolean; streams: boolean; consumer: boolean; processor: boolean };
  degraded: string[];
  problems: string[];
}

const PROCESSOR_SILENT_MS = 5_000;
/**
 * A socket's sim and mode requests waiting at once. Each is a NATS request with its own timeout (2 s,
 * 5 s) and a reply sent whether or not the client reads: a client sending them in a loop held
 * thousands (20,000 in a burst: +85 MB until the fan-out dropped it). The dashboard sends one per click.
 */
const WS_MAX_CONTROLS_WAITING = 16;
/** How long stop() lets the answers of requests in flight go out before it cuts their connections. */
const STOP_GRACE_MS = 1_000;

/** Per-event results and their counts, as POST /api/events and /api/track answer. */
function summarize(results: IntakeResult[]): { accepted: number; duplicate: number; rejected: number; results: IntakeResult[] } {
  const n = (s: IntakeResult["status"]) => results.filter((r) => r.status === s).length;
  return { accepted: n("accepted"), duplicate: n("duplicate"), rejected: n("rejected"), results };
}

/** A request whose Origin is neither this server nor one of server.allowedOrigins. */
const CROSS_SITE_REFUSED = "request from a page on another site refused: its Origin is neither this server nor in server.allowedOrigins";

const LIMIT_ERROR = "limit must be a positive integer written in decimal digits";

/**
 * `?limit=` of /api/decisions and /api/outcomes (50 without one), or undefined when it is no positive
 * integer written in decimal digits, as the config's integers must be (src/config/load.ts): Number()
 * took "1e2" as 100, "0x10" as 16, " 5" and "5.0" as 5.
 */
function feedLimit(url: URL): number | undefined {
  const raw = url.searchParams.get("limit") ?? "50";
  if (!/^\d+$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 ? limit : undefined;
}

/**
 * Each route and the one method it takes, for the 405 (with Allow) of a request that asks it with
 * another: it answered 404 "not found", and a shop's developer looked for a wrong URL.
 */
const ROUTE_METHOD: ReadonlyMap<string, "GET" | "POST"> = new Map([
  ...["/", "/index.html", "/app.js", "/shop", "/shop/", "/shop.js", "/metrics"].map((p) => [p, "GET"] as const),
  ...["snapshot", "promotions", "decisions", "outcomes", "catalog", "clock", "whatif", "schema/decision.json", "schema/event.json", "schema/outcome.json"].map((p) => [`/api/${p}`, "GET"] as const),
  ...["decide", "events", "track", "sim"].map((p) => [`/api/${p}`, "POST"] as const),
]);

export class DashboardServer {
  readonly hub: Hub;
  readonly decider: DecideService;
  private readonly intake: EventIntake;
  private http!: Server;
  private wss!: WebSocketServer;
  private fanout!: Fanout;
  private bundle!: Bundle;
  private html!: string;
  private shopHtml!: string;
  private deltaTimer: NodeJS.Timeout | undefined;
  private jsm!: JetStreamManager;
  private natsUp = true;
  /** HTTP requests not yet answered, and who waits for there to be none (stop()). */
  private requests = 0;
  /** The host names of server.allowedOrigins (validated at start as scheme://host[:port]). */
  private readonly allowedHosts: string[];
  private readonly idle: (() => void)[] = [];
  private cachedChecks: { at: number; streams: boolean; consumer: boolean; problems: string[] } = { at: 0, streams: false, consumer: false, problems: [] };

  constructor(
    private readonly nc: NatsConnection,
    private readonly cfg: Readonly<Config>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.allowedHosts = hostsOfOrigins(cfg.server.allowedOrigins);
    this.hub = new Hub(nc, cfg, log);
    this.decider = new DecideService(nc, cfg, log, metrics, () => this.hub.shopNowMs());
    this.intake = new EventIntake(nc, cfg, metrics, log, () => this.natsUp && !nc.isClosed());
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const h = this.cfg.server.host;
    const host = h === "0.0.0.0" || h === "::" ? "127.0.0.1" : h.includes(":") ? `[${h}]` : h;
    return `http://${host}:${this.port}/`;
  }

  async start(): Promise<void> {
    this.bundle = await bundleDashboard();
    this.html = readFileSync(join(REPO_ROOT, "web/index.html"), "utf8");
    this.shopHtml = readFileSync(join(REPO_ROOT, "web/shop.html"), "utf8");
    this.jsm = await jetstreamManager(this.nc);
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") this.natsUp = false;
        else if (s.type === "reconnect") this.natsUp = true;
      }
    })().catch(() => undefined);
    this.hub.start();
    await this.decider.start();
    this.fanout = new Fanout(
      { maxBufferedBytes: this.cfg.server.wsMaxBufferedBytes, maxSkippedFrames: this.cfg.server.wsMaxSkippedFrames, pingIntervalMs: this.cfg.server.pingIntervalMs },
      () => this.hub.snapshotFrame(),
      this.metrics,
    );
    this.http = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
      this.requests++;
      res.once("close", () => {
        if (--this.requests === 0) for (const r of this.idle.splice(0)) r();
      });
      this.route(req, res).catch((err) => {
        const url = loggableTarget(req);
        // A client gone before its body arrived (its own timeout, a lost network) is no fault of ours:
        // logged as an error with a stack, any client could fill the log with them.
        if (!req.complete && req.destroyed) return this.log.debug({ url, err: (err as Error).message }, "client went away mid-request");
        this.log.error({ err, url }, "request failed");
        if (!res.headersSent) this.json(res, 500, { error: "internal error" });
        else res.end();
      });
    });
    answerClientErrors(this.http);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.cfg.server.wsMaxPayloadBytes });
    this.http.on("upgrade", (req, socket, head) => {
      const deny = (code: number, text: string) => {
        const challenge = code === 401 ? `WWW-Authenticate: ${AUTH_CHALLENGE}\r\n` : "";
        socket.write(`HTTP/1.1 ${code} ${text}\r\n${challenge}Connection: close\r\nContent-Length: 0\r\n\r\n`);
        socket.destroy();
      };
      // An exception here would escape the event handler and end the process, so nothing may throw.
      const url = requestUrl(req);
      if (!url) return deny(400, "Bad Request");
      if (url.pathname !== "/ws") return deny(404, "Not Found");
      if (!this.hostAllowed(req)) return deny(403, "Forbidden");
      if (!this.authorized(req, url)) return deny(401, "Unauthorized");
      if (!this.originAllowed(req)) return deny(403, "Forbidden");
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.cfg.server.port, this.cfg.server.host, () => {
        this.http.off("error", reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw portInUse(err, this.cfg.server.host, this.cfg.server.port, "PORT");
    });
    this.deltaTimer = setInterval(() => {
      const frame = this.hub.deltaFrame();
      if (this.fanout.size) this.fanout.broadcast(frame);
    }, this.cfg.server.deltaEveryMs);
    this.log.info({ url: this.url }, "dashboard server listening");
  }

  private onSocket(ws: WebSocket): void {
    /** This socket's sim and mode requests waiting for their answer. */
    let controlsWaiting = 0;
    const settled = () => void controlsWaiting--;
    ws.on("message", (data, isBinary) => {
      if (isBinary) return ws.close(1003, "text frames only");
      let msg: { type?: unknown; cmd?: unknown; value?: unknown };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.send(JSON.stringify({ type: "error", error: "not JSON" }));
        return;
      }
      // `null` (or any non-object) has no fields: reading one would throw in this listener and end the process.
      if (typeof msg !== "object" || msg === null) msg = {};
      if ((msg.type === "mode" || msg.type === "sim") && controlsWaiting >= WS_MAX_CONTROLS_WAITING)
        return ws.close(1008, `over ${WS_MAX_CONTROLS_WAITING} sim/mode requests in flight; wait for their replies`);
      if (msg.type === "mode" || msg.type === "sim") controlsWaiting++;
      if (msg.type === "mode") {
        // Safe start (issue 23): the policy's mode changes through promo.control, into the log.
        this.hub
          .modeRequest((msg as { mode?: unknown }).mode)
          .then((reply) => ws.send(JSON.stringify({ type: "mode-reply", reply })))
          .catch((err: Error) => ws.send(JSON.stringify({ type: "mode-reply", reply: { ok: false, error: `promo.control did not answer: ${err.message}` } })))
          .finally(settled);
        return;
      }
      if (msg.type !== "sim") {
        ws.send(JSON.stringify({ type: "error", error: 'unknown type; send {"type":"sim","cmd":…} or {"type":"mode","mode":…}' }));
        return;
      }
      const cmd = simCommand(msg);
      if (typeof cmd === "string") {
        ws.send(JSON.stringify({ type: "sim-reply", reply: { ok: false, error: cmd } }));
        settled();
        return;
      }
      this.hub
        .simRequest(cmd)
        .then((reply) => ws.send(JSON.stringify({ type: "sim-reply", reply })))
        .catch((err: Error) => ws.send(JSON.stringify({ type: "sim-reply", reply: { ok: false, error: `simulator did not answer: ${err.message}` } })))
        .finally(settled);
    });
    this.fanout.add(ws);
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    return hasToken(req, url, this.cfg.server.token);
  }

  /**
   * Without a token, the Host must name this machine (loopback, or a host of server.allowedOrigins): a
   * site whose name was pointed at 127.0.0.1 (DNS rebinding) serves pages that are same-origin with their
   * requests here, so the Origin check lets them by. Chromium mapping such a name to 127.0.0.1 read the
   * decisions, drove the simulator and opened /ws (src/server/cross-site.test.ts). With a token they
   * would still need it, and it is never in a cookie.
   */
  private hostAllowed(req: IncomingMessage): boolean {
    if (this.cfg.server.token) return true;
    return loopbackHost(req.headers.host, this.allowedHosts);
  }

  /**
   * Browsers send Origin on WebSocket upgrades and on cross-site (and any POST) requests: it must be this
   * server itself or a configured origin.
   */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true; // not a browser: nothing to protect against cross-site use
    if (this.cfg.server.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    sendJson(res, code, body, headers);
  }

  /**
   * A batch's answer: 200, or 503 with Retry-After when an event could not be stored (NATS away: its
   * reason is "unavailable"), so a client resends the batch (the ids make the resend safe: what was stored
   * comes back "duplicate"). As a 200 it read as refused for good and was not sent again.
   */
  private batchAnswer(res: ServerResponse, stored: readonly IntakeResult[], body: unknown): void {
    const unavailable = stored.some((r) => r.status === "rejected" && r.reason === NOT_STORED);
    this.json(res, unavailable ? 503 : 200, body, unavailable ? { "retry-after": "1" } : {});
  }

  /**
   * POST /api/track: the shop's Segment calls mapped to events (src/events/segment.ts) and published
   * like POST /api/events'. Each call's answer: mapped (with what became of its event: accepted,
   * duplicate, rejected), ignored (by kind) or rejected (with its reason, dead-lettered too).
   */
  private async track(body: unknown): Promise<{ code: number; body: unknown; stored?: IntakeResult[] }> {
    const t = trackBody(body, Math.round(this.hub.shopNowMs()), { maxEventBytes: this.cfg.processor.maxEventBytes, maxCalls: this.cfg.server.maxBatch });
    if (!t.ok) return { code: 400, body: { error: t.error } };
    for (const [kind, n] of Object.entries(t.ignored)) this.metrics.trackIgnored.inc({ kind }, n);
    for (const [field, n] of Object.entries(t.dropped)) this.metrics.trackDroppedFields.inc({ field }, n);
    const stored = await this.intake.submit(t.events);
    const calls = Array.isArray((body as { batch?: unknown }).batch) ? ((body as { batch: unknown[] }).batch) : [body];
    const results = await Promise.all(
      t.results.map(async (r) => {
        if (r.status === "mapped") {
          const s = stored[r.eventIndex]!;
          return { ...r, stored: s.status, ...(s.status === "rejected" ? { reason: s.reason, detail: s.detail } : {}) };
        }
        if (r.status === "rejected") await this.intake.refuse(calls[r.index], r.messageId ?? null, r.reason, r.detail);
        return r;
      }),
    );
    const n = (s: string) => stored.filter((x) => x.status === s).length;
    return { code: 200, stored, body: { accepted: n("accepted"), duplicate: n("duplicate"), rejected: n("rejected") + t.results.filter((r) => r.status === "rejected").length, ignored: t.results.filter((r) => r.status === "ignored").length, results } };
  }

  private decided(res: ServerResponse, r: DecideResult): void {
    if (r.status === 503) res.setHeader("retry-after", String(r.retryAfterSec));
    this.json(res, r.status, r.body);
  }

  /**
   * The request's JSON body, or undefined once an error was answered: 413 over `maxBytes` (the
   * connection is closed rather than the rest read), 400 when it is not JSON (`what` says what is).
   */
  private async jsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, what: string): Promise<{ value: unknown } | undefined> {
    const body = await this.readBody(req, maxBytes);
    if (body === null) {
      res.setHeader("connection", "close");
      this.json(res, 413, { error: `request body over ${maxBytes} bytes` });
      return undefined;
    }
    try {
      return { value: JSON.parse(body) };
    } catch {
      this.json(res, 400, { error: `body must be ${what}` });
      return undefined;
    }
  }

  private async readBody(req: IncomingMessage, max: number): Promise<string | null> {
    if (Number(req.headers["content-length"] ?? 0) > max) return null;
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      n += (c as Buffer).length;
      if (n > max) return null;
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) return this.json(res, 400, { error: "request target is not a valid path" });
    const path = url.pathname;
    // HEAD is GET without the body (RFC 9110 9.3.2; Node leaves the body out), as uptime checks ask.
    const method = req.method === "HEAD" ? "GET" : req.method;
    if (method === "GET" && (path === "/" || path === "/index.html")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(this.html);
      return;
    }
    if (method === "GET" && path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(this.bundle.js);
      return;
    }
    // The shop a person can browse (issue 22): a page and its bundle, public like the dashboard's; its API calls carry the token.
    if (method === "GET" && (path === "/shop" || path === "/shop/")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(this.shopHtml);
      return;
    }
    if (method === "GET" && path === "/shop.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(this.bundle.shopJs);
      return;
    }
    if (path === "/health") {
      const h = await this.health();
      this.json(res, h.status === "down" ? 503 : 200, h);
      return;
    }
    // The WebSocket's Origin rule, for the API too. A page on another site can send a POST with a "simple"
    // content type (text/plain, a form's) without a CORS preflight; only its answer is hidden from it.
    // Without API_TOKEN (loopback, npm start's default) the server acted on it: any page the developer
    // opened could pause the simulator or store events (src/server/cross-site.test.ts). Browsers send
    // Origin on every such request; a client that is no browser sends none and is not concerned.
    if (!this.hostAllowed(req)) return this.json(res, 403, { error: HOST_REFUSED });
    if (!this.originAllowed(req)) return this.json(res, 403, { error: CROSS_SITE_REFUSED });
    if (!this.authorized(req, url)) return this.json(res, 401, { error: TOKEN_REFUSED }, { "www-authenticate": AUTH_CHALLENGE });
    if (method === "GET" && path === "/metrics") {
      res.writeHead(200, { "content-type": this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    if (method === "GET" && path === "/api/snapshot") return this.json(res, 200, this.hub.state());
    if (method === "GET" && path === "/api/promotions") return this.json(res, 200, { promotions: this.hub.kpi?.arms ?? [], configured: this.cfg.promotions });
    if (method === "GET" && path === "/api/decisions") {
      const limit = feedLimit(url);
      if (limit === undefined) return this.json(res, 400, { error: LIMIT_ERROR });
      return this.json(res, 200, { decisions: this.hub.decisions(Math.min(limit, this.cfg.server.feedSize)) });
    }
    if (method === "GET" && path === "/api/outcomes") {
      const limit = feedLimit(url);
      if (limit === undefined) return this.json(res, 400, { error: LIMIT_ERROR });
      return this.json(res, 200, { outcomes: this.hub.outcomes(Math.min(limit, this.cfg.server.feedSize)) });
    }
    if (method === "GET" && path === "/api/catalog") {
      const c = await this.hub.catalog();
      return c.ok ? this.json(res, 200, { products: c.products }) : this.json(res, 503, { error: c.error });
    }
    // The shop's time for the events it sends itself: in a simulated shop the simulator's clock, which the wall clock is not.
    if (method === "GET" && path === "/api/clock") return this.json(res, 200, { nowMs: Math.round(this.hub.shopNowMs()) });
    if (method === "GET" && path === "/api/whatif")
      return this.hub.whatIf ? this.json(res, 200, this.hub.whatIf) : this.json(res, 404, { error: "no what-if evaluation yet: run npm run eval -- --logs --candidate <config.json> --out <dir> with NATS_URL set" });
    if (method === "GET" && path === "/api/schema/decision.json") return this.json(res, 200, DecisionSchema);
    if (method === "GET" && path === "/api/schema/event.json") return this.json(res, 200, EventSchema);
    if (method === "GET" && path === "/api/schema/outcome.json") return this.json(res, 200, OutcomeSchema);
    if (method === "POST" && path === "/api/decide") {
      const body = await this.jsonBody(req, res, this.cfg.server.maxRequestBytes, 'one event as JSON, e.g. {"type":"view","id":"v-1","customerId":"c1","productId":"sku-001"}');
      if (body === undefined) return;
      return this.decided(res, await this.decider.decide(body.value));
    }
    if (method === "POST" && path === "/api/events") {
      const body = await this.jsonBody(req, res, this.cfg.server.maxBatchBytes, "a JSON array of events");
      if (body === undefined) return;
      if (!Array.isArray(body.value)) return this.json(res, 400, { error: "body must be a JSON array of events (one event: [ {…} ])" });
      if (body.value.length > this.cfg.server.maxBatch) return this.json(res, 400, { error: `at most ${this.cfg.server.maxBatch} events per request (server.maxBatch); send the rest in another` });
      const stored = await this.intake.submit(body.value, Math.round(this.hub.shopNowMs()));
      return this.batchAnswer(res, stored, summarize(stored));
    }
    if (method === "POST" && path === "/api/track") {
      const body = await this.jsonBody(req, res, this.cfg.server.maxBatchBytes, 'one Segment call ({"type":"track","event":"Product Viewed",…}) or a batch ({"batch":[…]})');
      if (body === undefined) return;
      const t = await this.track(body.value);
      return t.stored ? this.batchAnswer(res, t.stored, t.body) : this.json(res, t.code, t.body);
    }
    if (method === "POST" && path === "/api/sim") {
      const body = await this.jsonBody(req, res, this.cfg.server.maxRequestBytes, 'JSON like {"cmd":"speed","value":10}');
      if (body === undefined) return;
      const cmd = simCommand(body.value);
      if (typeof cmd === "string") return this.json(res, 400, { error: cmd });
      try {
        return this.json(res, 200, await this.hub.simRequest(cmd));
      } catch (err) {
        return this.json(res, 503, { error: `simulator did not answer: ${(err as Error).message}` });
      }
    }
    const allow = ROUTE_METHOD.get(path);
    if (allow) return this.json(res, 405, { error: `${req.method} is not allowed here: use ${allow} ${path}` }, { allow });
    this.json(res, 404, { error: "not found" });
  }

  /** Ready only when NATS, the streams and the processor's consumer are up, and the processor reports in. */
  async health(): Promise<HealthReport> {
    const nats = this.natsUp && !this.nc.isClosed();
    if (!nats) {
      // Nothing to ask while disconnected: each request would only wait out its timeout (a probe took
      // 25 s to hear "down"). The streams and the consumer are not known up.
      this.cachedChecks = { at: 0, streams: false, consumer: false, problems: [] };
    } else if (Date.now() - this.cachedChecks.at > 2_000) {
      const problems: string[] = [];
      const st = this.cfg.streams;
      const streamNames = [st.events.name, st.decisions.name, st.outcomes.name, st.deadletter.name];
      const names = this.cfg.scale.enabled ? Array.from({ length: this.cfg.partitions }, (_, k) => `${this.cfg.processor.durable}-p${k}`) : [this.cfg.processor.durable];
      // All at once: a slow JetStream costs one timeout, not one per stream.
      const [streamResults, consumerResults] = await Promise.all([
        Promise.allSettled(streamNames.map((name) => this.jsm.streams.info(name))),
        Promise.allSettled(names.map((name) => this.jsm.consumers.info(this.cfg.streams.events.name, name))),
      ]);
      streamResults.forEach((r, i) => {
        if (r.status === "rejected") problems.push(`stream ${streamNames[i]}: ${(r.reason as Error).message}`);
      });
      // Each failing consumer by its name (a partition's, processor-p3), those failing alike on one line.
      const failedBy = new Map<string, string[]>();
      consumerResults.forEach((r, i) => {
        if (r.status !== "rejected") return;
        const why = (r.reason as Error).message;
        failedBy.set(why, [...(failedBy.get(why) ?? []), names[i]!]);
      });
      for (const [why, failed] of failedBy) problems.push(`consumer${failed.length > 1 ? "s" : ""} ${failed.join(", ")}: ${why}`);
      this.cachedChecks = { at: Date.now(), streams: streamResults.every((r) => r.status === "fulfilled"), consumer: failedBy.size === 0, problems };
    }
    const k = this.hub.kpi;
    // Partitioned, every partition must be owned by a reporting instance.
    const covered = !this.cfg.scale.enabled || (k?.partitions !== undefined && new Set(k.partitions).size === this.cfg.partitions);
    const processor = k !== null && Date.now() - this.hub.kpiAtMs < PROCESSOR_SILENT_MS && k.health.ok && covered;
    const problems = [...this.cachedChecks.problems];
    if (!nats) problems.push("NATS disconnected");
    if (!processor) problems.push(k ? "processor not reporting or not consuming" : "no KPI snapshot from a processor yet");
    const ok = nats && this.cachedChecks.streams && this.cachedChecks.consumer && processor;
    const degraded = k?.health.degraded ?? [];
    return {
      status: !ok ? "down" : degraded.length ? "degraded" : "ok",
      checks: { nats, streams: this.cachedChecks.streams, consumer: this.cachedChecks.consumer, processor },
      degraded,
      problems,
    };
  }

  async stop(): Promise<void> {
    if (this.deltaTimer) clearInterval(this.deltaTimer);
    // No new connections from here on; idle keep-alive ones go at once.
    const closed = this.http ? new Promise<void>((r) => this.http.close(() => r())) : undefined;
    this.decider.stop();
    this.intake.close();
    this.hub.stop();
    this.fanout?.close();
    this.wss?.close();
    if (this.http) {
      // The requests in flight were just answered (decide: timeout; a batch: 503, send again): let those
      // answers go out (their handlers run in the next turns) before the connections are cut.
      if (this.requests > 0) await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
      this.http.closeAllConnections();
      await closed;
    }
  }
}
