import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { ClientFrame, ServerFrame } from "../../src/server/index.ts";
import { ChartStore } from "../model/chart-store.ts";
import { CHARTS } from "../model/charts.ts";
import { SAFE_CHART } from "../model/safe.ts";
import { applyFrame, commandNotSent, emptyState, followCustomer, modeAsked, type ClientState } from "../model/state.ts";
import { connectProblem, silenceLimits, type ConnectionStatus } from "../model/status.ts";

export type { ConnectionStatus };

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/**
 * The dashboard's WebSocket, tied to its host's lifecycle: opens in hostConnected, closes in
 * hostDisconnected, reconnects with jittered backoff, and resyncs from the snapshot the server sends
 * first (merged with what the page holds, so a restarted server does not blank it). Frames go to the
 * pure model: scalar state through applyFrame, history points into the charts' columns.
 */
export class SocketController implements ReactiveController {
  state: ClientState = emptyState();
  readonly charts = new ChartStore([...CHARTS, SAFE_CHART]);
  status: ConnectionStatus = "connecting";
  reconnects = 0;
  /** Why the last connect failed, when the server could be asked (connectProblem). */
  problem: string | null = null;
  private ws: WebSocket | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = FIRST_RETRY_MS;
  private closedByHost = false;
  /** When the open socket last brought a frame (performance.now()); the watch below judges its silence. */
  private lastFrameAt = 0;
  private watch: ReturnType<typeof setInterval> | undefined;

  /** Milliseconds since the open socket's last frame (0 when it is not open). */
  get silentMs(): number {
    return this.status === "open" ? Math.max(0, performance.now() - this.lastFrameAt) : 0;
  }

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.closedByHost = false;
    // `/?customer=<id>` (the shop's link): the feed follows that shopper from the first frame on.
    const customer = new URLSearchParams(location.search).get("customer");
    if (customer && !this.state.follow) this.state = followCustomer(this.state, customer);
    addEventListener("online", this.onOnline);
    this.open();
    this.watch = setInterval(this.checkSilence, 1_000);
  }

  /**
   * A socket that hears nothing is shown stale (the header re-renders with how long), and after longer
   * taken for dead: closed and opened again, as a close would have done. A cut connection that no close
   * reached stayed "live" over frozen figures (a Chromium page taken offline for 10 s said "live" all along).
   */
  private readonly checkSilence = () => {
    if (this.status !== "open" || !this.ws) return;
    const silent = this.silentMs;
    const { staleMs, deadMs } = silenceLimits(this.state.fresh.frameEveryMs);
    if (silent > deadMs) {
      const dead = this.ws;
      this.ws = undefined;
      dead.close();
      this.lost(true);
    } else if (silent > staleMs) this.host.requestUpdate();
  };

  hostDisconnected(): void {
    this.closedByHost = true;
    removeEventListener("online", this.onOnline);
    clearTimeout(this.retry);
    clearInterval(this.watch);
    this.ws?.close();
    this.ws = undefined;
  }

  /** Back on the network: try now rather than at the end of a long backoff. */
  private readonly onOnline = () => {
    if (this.status !== "reconnecting" || this.closedByHost) return;
    clearTimeout(this.retry);
    this.backoffMs = FIRST_RETRY_MS;
    this.open();
  };

  private url(): string {
    const token = new URLSearchParams(location.search).get("token");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  }

  private open(): void {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastFrameAt = performance.now();
      this.status = "open";
      this.problem = null;
      this.backoffMs = FIRST_RETRY_MS;
      this.host.requestUpdate();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = performance.now();
      let f: ServerFrame;
      try {
        f = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      if (f.type === "snapshot") this.charts.load(f.state.history);
      else if (f.type === "delta" && f.points.length) this.charts.append(f.points);
      this.state = applyFrame(this.state, f);
      this.host.requestUpdate();
    };
    ws.onclose = () => {
      if (this.closedByHost || this.ws !== ws) return;
      this.lost(opened);
    };
    ws.onerror = () => ws.close();
  }

  /** The socket closed (or was taken for dead): say so and open another after a jittered backoff. */
  private lost(opened: boolean): void {
    this.status = "reconnecting";
    this.reconnects++;
    this.host.requestUpdate();
    // Jitter, so that every open dashboard does not knock at a restarted server at the same moment.
    this.retry = setTimeout(() => this.open(), this.backoffMs * (0.8 + 0.4 * Math.random()));
    this.backoffMs = Math.min(MAX_RETRY_MS, this.backoffMs * 2);
    if (!opened) void this.diagnose();
  }

  /**
   * After a connect that failed: asks a small HTTP route of the same server why (the upgrade's 401 is
   * invisible to page code), so the header can say "needs the access token" or "server not reachable".
   */
  private async diagnose(): Promise<void> {
    const token = new URLSearchParams(location.search).get("token");
    // Offline, the question could not get out either (and Chromium would log its failure as an error).
    let probe: number | "unreachable" | "offline" = "offline";
    if (navigator.onLine) {
      try {
        probe = (await fetch(`/api/decisions?limit=1${token ? `&token=${encodeURIComponent(token)}` : ""}`, { cache: "no-store" })).status;
      } catch {
        probe = "unreachable";
      }
    }
    // A later attempt may have opened meanwhile: then there is nothing to explain.
    if (this.status === "open" || this.closedByHost) return;
    this.problem = connectProblem(probe, location.href);
    this.host.requestUpdate();
  }

  /** Follows one customer's decisions in the feed ("" for everyone). */
  follow(customerId: string): void {
    this.state = followCustomer(this.state, customerId);
    this.host.requestUpdate();
  }

  /** Sends a command; with the socket down it says so (see commandNotSent) instead of dropping it in silence. */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) {
      this.state = commandNotSent(this.state, frame.type === "mode" ? "mode" : "sim");
      this.host.requestUpdate();
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    if (frame.type === "mode") {
      this.state = modeAsked(this.state);
      this.host.requestUpdate();
    }
    return true;
  }
}
