import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { ServerFrame } from "../../src/server/index.ts";
import { applyFrame, emptyState, type ClientState } from "../model/state.ts";

export type ConnectionStatus = "connecting" | "open" | "reconnecting";

/**
 * The dashboard's WebSocket, tied to its host's lifecycle: opens in hostConnected, closes in
 * hostDisconnected, reconnects with backoff, and resyncs from the snapshot the server sends first.
 */
export class SocketController implements ReactiveController {
  state: ClientState = emptyState();
  status: ConnectionStatus = "connecting";
  reconnects = 0;
  private ws: WebSocket | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = 250;
  private closedByHost = false;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.closedByHost = false;
    this.open();
  }

  hostDisconnected(): void {
    this.closedByHost = true;
    clearTimeout(this.retry);
    this.ws?.close();
  }

  private url(): string {
    const token = new URLSearchParams(location.search).get("token");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  }

  private open(): void {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.status = "open";
      this.backoffMs = 250;
      this.host.requestUpdate();
    };
    ws.onmessage = (ev) => {
      try {
        this.state = applyFrame(this.state, JSON.parse(String(ev.data)) as ServerFrame);
      } catch {
        return;
      }
      this.host.requestUpdate();
    };
    ws.onclose = () => {
      if (this.closedByHost) return;
      this.status = "reconnecting";
      this.reconnects++;
      this.host.requestUpdate();
      this.retry = setTimeout(() => this.open(), this.backoffMs);
      this.backoffMs = Math.min(5_000, this.backoffMs * 2);
    };
    ws.onerror = () => ws.close();
  }

  send(frame: unknown): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
