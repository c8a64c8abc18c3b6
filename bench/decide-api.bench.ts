// The decide request (issue 22): POST /api/decide on the dashboard server (its own process, as
// `npm run server` starts it) against the live processor, while a background feed of shoppers' events
// runs at 5,000 events/s. Open loop: requests go out on a fixed schedule, not after answers, and each
// latency runs from the moment the request was due (feed.ts says why). Then five times the highest
// rate: how many are shed (503 at once), and whether the event stream's consumer falls behind.
//
// The request load and the background feed each run in a process of their own (decide-load-child.ts,
// feed-child.ts): in this process, with the generated stream in its heap, their own lag and garbage
// collections counted as the server's latency (a first version measured 0.5 s p99 at 100 requests/s).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnPart } from "./children.ts";
import { hold } from "./cleanup.ts";
import type { BenchContext } from "./context.ts";
import { runChild } from "./child-ipc.ts";
import type { LatencySummary } from "./feed.ts";
import { packFeed } from "./feed.ts";
import { runFeedChild } from "./latency.bench.ts";
import type { FromLoadChild, LoadPhase, LoadResult, ToLoadChild } from "./decide-load-child.ts";
import { sleep } from "./stats.ts";

export const DECIDE_RATES = [100, 1000] as const;
const OVERLOAD_FACTOR = 5;
const BACKGROUND_PER_SEC = 5000;
const GAP_MS = 1_000;
const LAG_EVERY_MS = 200;

export interface DecideApiPhase extends LoadResult {
  /** The processor's consumer lag (events in EVENTS not yet delivered) during the phase: its largest sample. */
  maxConsumerLag: number;
}

export interface DecideApiResult {
  phases: DecideApiPhase[];
  /** Requests in the overload phase that were answered 503. */
  shedShare: number;
  /** The background feed's own publish → decision latency over the whole run (ms), and its decisions missing. */
  background: { latencyMs: LatencySummary; decisions: number; missing: number; sentPerSec: number };
}

const LOAD_CHILD = fileURLToPath(new URL("./decide-load-child.ts", import.meta.url));

export async function benchDecideApi(ctx: BenchContext): Promise<DecideApiResult> {
  await ctx.liveProcessor();
  const { server, jsm } = await ctx.nats();
  const srv = await spawnPart("server", { natsUrl: server.url, overlay: ctx.overlay({ server: { port: 0 } }), nodeFlags: ctx.nodeFlags() });
  const seconds = ctx.opts.quick ? 2 : 10;
  const phases: LoadPhase[] = [
    ...DECIDE_RATES.map((r) => ({ ratePerSec: r, seconds })),
    { ratePerSec: DECIDE_RATES[DECIDE_RATES.length - 1]! * OVERLOAD_FACTOR, seconds: ctx.opts.quick ? 1 : 5 },
  ];
  const totalSec = 1 + phases.reduce((s, p) => s + p.seconds + GAP_MS / 1000, 0) + 2;
  const dir = mkdtempSync(join(tmpdir(), "ps-bench-decide-"));
  const releaseDir = hold(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const file = join(dir, "background");
    packFeed(ctx.events().take(BACKGROUND_PER_SEC * Math.ceil(totalSec)), file);
    const feed = runFeedChild(ctx, server.url, [{ file, ratePerSec: BACKGROUND_PER_SEC }]);
    await sleep(1_000);
    // The consumer's lag, sampled through each phase.
    let current = -1;
    const maxLag: number[] = phases.map(() => 0);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (current >= 0) {
          const ci = await jsm.consumers.info(ctx.cfg.streams.events.name, ctx.cfg.processor.durable).catch(() => undefined);
          if (ci) maxLag[current] = Math.max(maxLag[current]!, ci.num_pending);
        }
        await sleep(LAG_EVERY_MS);
      }
    })();
    const load = await runChild<ToLoadChild, FromLoadChild, LoadResult[]>(LOAD_CHILD, { type: "run", url: new URL("api/decide", srv.url!).href, phases, gapMs: GAP_MS }, [], (m, out) => {
      if (m.type === "phase") current = m.index;
      else if (m.type === "result") {
        out[m.index] = m.result;
        current = -1;
      }
    });
    sampling = false;
    await sampler;
    const [bg] = await feed;
    const results = load.map((r, i) => ({ ...r, maxConsumerLag: maxLag[i]! }));
    const over = results[results.length - 1]!;
    return {
      phases: results,
      shedShare: over.sent ? over.shed / over.sent : 0,
      background: { latencyMs: bg!.latencyMs, decisions: bg!.decisions, missing: bg!.missing, sentPerSec: bg!.sentPerSec },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
    await srv.stop().catch(() => srv.kill());
  }
}
