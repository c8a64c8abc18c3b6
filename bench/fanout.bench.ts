// Fan-out (issue #7 §6): 100 WebSocket clients on the dashboard server (its own process, started as
// `npm run server` starts it, with server.deltaEveryMs 100: 10 frames a second to each client) while
// the live processor handles a paced feed, so the frames carry what a dashboard would see. The server's
// CPU share is its own process.cpuUsage over the window (IPC, bench/part-child.ts); dropped frames
// are the server's own counters (ps_ws_dropped_frames_total, ps_ws_dropped_clients_total on
// /metrics) and, from the clients' side, frames received against the frames due.
import { WebSocket } from "ws";
import { PipelinedPublisher } from "../src/io/nats/index.ts";
import { spawnPart } from "./children.ts";
import type { BenchContext } from "./context.ts";
import { DecisionWatch, runFeed } from "./feed.ts";
import { spread, type Spread } from "./stats.ts";

export const FANOUT_CLIENTS = 100;
export const FANOUT_EVERY_MS = 100;
const FEED_PER_SEC = 1000;

export interface FanoutResult {
  clients: number;
  framesPerSecPerClient: number;
  seconds: number;
  /** Server process CPU over the window, in cores (1 = one core busy). */
  serverCpuShare: number;
  /** Frames the server skipped for slow clients, and clients it dropped, during the window. */
  droppedFrames: number;
  droppedClients: number;
  /** Frames each client received over the window, against `framesDue` per client. */
  framesReceived: Spread;
  framesDue: number;
  /** Mean frame size and the server's total send rate. */
  meanFrameBytes: number;
  sentMbPerSec: number;
}

async function scrape(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(new URL("metrics", base))).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(ps_ws_[a-z_]+)\s+([0-9.eE+-]+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export async function benchFanout(ctx: BenchContext): Promise<FanoutResult> {
  await ctx.liveProcessor();
  const { server } = await ctx.nats();
  const srv = await spawnPart("server", { natsUrl: server.url, overlay: ctx.overlay({ server: { port: 0, deltaEveryMs: FANOUT_EVERY_MS } }), nodeFlags: ctx.nodeFlags() });
  const clients: { ws: WebSocket; frames: number; bytes: number }[] = [];
  try {
    const wsUrl = `${srv.url!.replace(/^http/, "ws")}ws`;
    await Promise.all(
      Array.from({ length: FANOUT_CLIENTS }, async () => {
        const c = { ws: new WebSocket(wsUrl), frames: 0, bytes: 0 };
        c.ws.on("message", (data: Buffer) => {
          c.frames++;
          c.bytes += data.length;
        });
        await new Promise<void>((resolve, reject) => {
          c.ws.once("open", () => resolve());
          c.ws.once("error", reject);
        });
        clients.push(c);
      }),
    );
    const pub = new PipelinedPublisher(await ctx.connect("bench-fanout-send"), ctx.cfg.simulator.maxInFlightPublishes);
    const watch = new DecisionWatch(await ctx.connect("bench-fanout-recv"), ctx.cfg.nats.subjectPrefix);
    const seconds = ctx.sizes.fanoutSeconds;
    const events = ctx.events().take(FEED_PER_SEC * (seconds + 1));
    // One second of feed before the window, so the window starts with frames in steady state.
    const feeding = runFeed(pub, watch, events, FEED_PER_SEC);
    await new Promise((r) => setTimeout(r, 1_000));
    const m0 = await scrape(srv.url!);
    const s0 = await srv.stats();
    const f0 = clients.map((c) => c.frames);
    const b0 = clients.reduce((s, c) => s + c.bytes, 0);
    await new Promise((r) => setTimeout(r, seconds * 1_000));
    const s1 = await srv.stats();
    const m1 = await scrape(srv.url!);
    const received = clients.map((c, i) => c.frames - f0[i]!);
    const bytes = clients.reduce((s, c) => s + c.bytes, 0) - b0;
    await feeding;
    watch.close();
    const wallSec = (s1.atMs - s0.atMs) / 1000;
    const cpuSec = (s1.cpuUserMicros - s0.cpuUserMicros + s1.cpuSystemMicros - s0.cpuSystemMicros) / 1e6;
    const frames = received.reduce((s, x) => s + x, 0);
    return {
      clients: FANOUT_CLIENTS,
      framesPerSecPerClient: 1000 / FANOUT_EVERY_MS,
      seconds: wallSec,
      serverCpuShare: cpuSec / wallSec,
      droppedFrames: (m1.ps_ws_dropped_frames_total ?? 0) - (m0.ps_ws_dropped_frames_total ?? 0),
      droppedClients: (m1.ps_ws_dropped_clients_total ?? 0) - (m0.ps_ws_dropped_clients_total ?? 0),
      framesReceived: spread(received),
      framesDue: Math.round((wallSec * 1000) / FANOUT_EVERY_MS),
      meanFrameBytes: frames ? bytes / frames : 0,
      sentMbPerSec: bytes / 2 ** 20 / wallSec,
    };
  } finally {
    for (const c of clients) c.ws.terminate();
    await srv.stop().catch(() => srv.kill());
  }
}
