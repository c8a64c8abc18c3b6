import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { Fanout } from "./fanout.ts";

let wss: WebSocketServer | undefined;
let fanout: Fanout | undefined;
afterEach(async () => {
  fanout?.close();
  await new Promise((r) => wss?.close(r));
});

async function serve(opts: { maxBufferedBytes: number; maxSkippedFrames: number }, snapshot = () => JSON.stringify({ type: "snapshot" })) {
  wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss!.once("listening", r));
  fanout = new Fanout({ ...opts, pingIntervalMs: 60_000 }, snapshot);
  wss.on("connection", (ws) => fanout!.add(ws));
  return (wss.address() as AddressInfo).port;
}

/** A client that completes the handshake and then never reads: its server-side buffer can only grow. */
async function stalledClient(port: number): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port });
  await new Promise((r) => s.once("connect", r));
  s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await new Promise((r) => s.once("data", r));
  s.pause();
  return s;
}

describe("Fanout", () => {
  it("skips frames for a slow client, then drops it, while a fast client gets every frame", async () => {
    const port = await serve({ maxBufferedBytes: 64 * 1024, maxSkippedFrames: 5 });
    const fast = new WebSocket(`ws://127.0.0.1:${port}`);
    let fastFrames = 0;
    fast.on("message", () => fastFrames++);
    await new Promise((r) => fast.once("open", r));
    const slow = await stalledClient(port);
    while (fanout!.size < 2) await new Promise((r) => setTimeout(r, 10));
    const frame = "x".repeat(256 * 1024);
    let sent = 0;
    // Broadcast until the stalled client is dropped; kernel buffers take a few MB before ws queues.
    while (fanout!.droppedClients === 0 && sent < 400) {
      fanout!.broadcast(frame);
      sent++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(fanout!.droppedClients).toBe(1);
    expect(fanout!.droppedFrames).toBeGreaterThanOrEqual(5);
    expect(fanout!.size).toBe(1);
    // The fast client saw the snapshot plus every frame that was broadcast.
    await new Promise<void>((r) => {
      const check = () => (fastFrames >= sent + 1 ? r() : setTimeout(check, 10));
      check();
    });
    expect(fastFrames).toBe(sent + 1);
    slow.destroy();
    fast.close();
  });

  it("resynchronises a client with a snapshot once it drains", async () => {
    const port = await serve({ maxBufferedBytes: 64 * 1024, maxSkippedFrames: 1_000_000 });
    const c = new WebSocket(`ws://127.0.0.1:${port}`);
    const got: string[] = [];
    c.on("message", (d) => got.push((JSON.parse(d.toString()) as { type: string }).type));
    await new Promise((r) => c.once("open", r));
    while (fanout!.size < 1 || got.length < 1) await new Promise((r) => setTimeout(r, 10));
    c.pause(); // ws's public pause(): the client stops reading, its server-side buffer grows
    const frame = JSON.stringify({ type: "delta", pad: "y".repeat(256 * 1024) });
    while (fanout!.droppedFrames === 0) {
      fanout!.broadcast(frame);
      await new Promise((r) => setTimeout(r, 5));
    }
    const before = got.length;
    c.resume();
    // Once it has drained, the next broadcast it can take is a snapshot (not the delta it would
    // otherwise get), so it never shows state with a gap.
    await new Promise((r) => setTimeout(r, 300));
    fanout!.broadcast(JSON.stringify({ type: "delta" }));
    await new Promise<void>((r) => {
      const check = () => (got.includes("snapshot", before) ? r() : setTimeout(check, 10));
      check();
    });
    expect(got[0]).toBe("snapshot");
    expect(got.slice(before)).toContain("snapshot");
    expect(fanout!.droppedClients).toBe(0);
    c.close();
  });

  it("sends deltas after a snapshot larger than maxBufferedBytes to a client that keeps up", async () => {
    // 150 promotions made a 14 MB snapshot against the 1 MiB default cap: the delta after it found the
    // snapshot still queued, was skipped, and the client got a new snapshot instead, for ever.
    const big = JSON.stringify({ type: "snapshot", pad: "s".repeat(8 * 1024 * 1024) });
    const port = await serve({ maxBufferedBytes: 64 * 1024, maxSkippedFrames: 1_000_000 }, () => big);
    const c = new WebSocket(`ws://127.0.0.1:${port}`);
    const got: string[] = [];
    c.on("message", (d) => got.push((JSON.parse(d.toString()) as { type: string }).type));
    await new Promise((r) => c.once("open", r));
    while (fanout!.size < 1) await new Promise((r) => setTimeout(r, 1));
    const delta = JSON.stringify({ type: "delta" });
    for (let i = 0; i < 20; i++) {
      fanout!.broadcast(delta);
      await new Promise((r) => setTimeout(r, 25));
    }
    await new Promise<void>((r) => {
      const check = () => (got.length >= 21 || got.filter((t) => t === "snapshot").length > 1 ? r() : setTimeout(check, 10));
      check();
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(got.filter((t) => t === "snapshot")).toHaveLength(1);
    expect(got.filter((t) => t === "delta")).toHaveLength(20);
    expect(fanout!.droppedFrames).toBe(0);
    c.close();
  });
});
