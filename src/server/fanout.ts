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
  /**
   * Bytes of the last snapshot sent, allowed in the socket's buffer on top of maxBufferedBytes until
   * the buffer has drained below maxBufferedBytes once. Without it a snapshot larger than the cap (150
   * promotions: 14 MB of history against the 1 MiB default) made the very next delta look like a
   * client falling behind: the delta was skipped, a new snapshot sent, and so on, so the page only
   * ever got a 14 MB snapshot every ~5 s and never a delta.
   */
  allowanceBytes: number;
}

/**
 * Sends the same frames to every dashboard. A client that does not keep up never makes memory grow:
 * while its socket holds more than maxBufferedBytes, frames for it are skipped (counted) and it is
 * resynchronised with a full snapshot once it drains (a snapshot's own bytes do not count against the
 * cap until they have drained, see Client.allowanceBytes); after maxSkippedFrames in a row it is dropped
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
    const c: Client = { skipped: 0, needsSnapshot: false, alive: true, allowanceBytes: 0 };
    this.clients.set(ws, c);
    this.metrics?.wsClients.set(this.clients.size);
    ws.on("pong", () => (c.alive = true));
    ws.on("close", () => {
      this.clients.delete(ws);
      this.metrics?.wsClients.set(this.clients.size);
    });
    ws.on("error", () => ws.terminate());
    const snap = this.snapshot();
    c.allowanceBytes = Buffer.byteLength(snap);
    ws.send(snap);
  }

  broadcast(frame: string): void {
    let snap: string | undefined;
    for (const [ws, c] of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const buffered = ws.bufferedAmount;
      if (buffered <= this.opts.maxBufferedBytes) c.allowanceBytes = 0;
      if (buffered > this.opts.maxBufferedBytes + c.allowanceBytes) {
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
        snap ??= this.snapshot();
        c.allowanceBytes = Buffer.byteLength(snap);
        ws.send(snap);
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
