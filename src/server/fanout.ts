import { WebSocket } from "ws";
import type { Metrics } from "../metrics/index.ts";

export interface FanoutOptions {
  /** Bytes queued on a client's socket above which its frames are skipped. */
  maxBufferedBytes: number;
  /** Skipped frames in a row after which the client is dropped. */
  maxSkippedFrames: number;
  pingIntervalMs: number;
}

interface Client {
  skipped: number;
  needsSnapshot: boolean;
  alive: boolean;
}

/**
 * Sends the same frames to every dashboard. A client that does not keep up never makes memory grow:
 * while its socket holds more than maxBufferedBytes, frames for it are skipped (counted) and it is
 * resynchronised with a full snapshot once it drains; after maxSkippedFrames in a row it is dropped
 * (counted). Clients that miss a ping are terminated (ws README, "detect broken connections").
 */
export class Fanout {
  private readonly clients = new Map<WebSocket, Client>();
  private readonly pinger: NodeJS.Timeout;
  droppedFrames = 0;
  droppedClients = 0;

  constructor(
    private readonly opts: FanoutOptions,
    private readonly snapshot: () => string,
    private readonly metrics?: Metrics,
  ) {
    this.pinger = setInterval(() => this.ping(), opts.pingIntervalMs);
    this.pinger.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): void {
    const c: Client = { skipped: 0, needsSnapshot: false, alive: true };
    this.clients.set(ws, c);
    this.metrics?.wsClients.set(this.clients.size);
    ws.on("pong", () => (c.alive = true));
    ws.on("close", () => {
      this.clients.delete(ws);
      this.metrics?.wsClients.set(this.clients.size);
    });
    ws.on("error", () => ws.terminate());
    ws.send(this.snapshot());
  }

  broadcast(frame: string): void {
    let snap: string | undefined;
    for (const [ws, c] of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > this.opts.maxBufferedBytes) {
        c.skipped++;
        c.needsSnapshot = true;
        this.droppedFrames++;
        this.metrics?.wsDroppedFrames.inc();
        if (c.skipped >= this.opts.maxSkippedFrames) {
          this.droppedClients++;
          this.metrics?.wsDroppedClients.inc();
          this.clients.delete(ws);
          this.metrics?.wsClients.set(this.clients.size);
          ws.terminate();
        }
        continue;
      }
      c.skipped = 0;
      if (c.needsSnapshot) {
        c.needsSnapshot = false;
        ws.send((snap ??= this.snapshot()));
      } else ws.send(frame);
    }
  }

  private ping(): void {
    for (const [ws, c] of this.clients) {
      if (!c.alive) {
        this.clients.delete(ws);
        ws.terminate();
        continue;
      }
      c.alive = false;
      ws.ping();
    }
    this.metrics?.wsClients.set(this.clients.size);
  }

  close(): void {
    clearInterval(this.pinger);
    for (const ws of this.clients.keys()) ws.close(1001, "server shutting down");
    this.clients.clear();
  }
}
