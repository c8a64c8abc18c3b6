// One network partition between a processor and nats-server, as an operator's network would fail
// (issue 25): nats-server in the root namespace, `npm run processor` in a namespace of its own, a
// producer beside the server publishing shoppers' events at a steady pace with retries; once about a
// third of the decision points are decided, the processor's end of the link goes down for `cutMs`,
// then comes back. Used by test/integration/partition.test.ts and test/measure/partition-soak.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encodeEvent, Subjects, type Decision, type ShopEvent } from "../../src/events/index.ts";
import { PipelinedPublisher, startNatsServer, type NatsServerHandle } from "../../src/io/nats/index.ts";
import { testOutputDir } from "./chromium.ts";
import { createNetLab, type NetLab } from "./netlab.ts";
import { configFile, spawnPart, type Child } from "./processes.ts";
import { readStream } from "./streams.ts";
import { waitFor } from "./system.ts";

export type Deployment = "single" | "partitioned";

export interface CutOptions {
  cutMs: number;
  deployment: Deployment;
  /** Decision points (views of a product in a visit of its own); a fifth as many clicks come with them. */
  points?: number;
  /** How long the producer takes to publish them all. */
  publishMs?: number;
  /** Cut once this many decision points are decided. */
  cutAfter?: number;
  /** Where to leave the processor's and the server's logs (always written; a failure is read from them). */
  label?: string;
}

export interface CutResult {
  deployment: Deployment;
  cutMs: number;
  points: number;
  /** Decision points with a decision in DECISIONS. */
  decided: number;
  /** Decision points with none. */
  lost: number;
  /** Decision points with more than one decision stored. */
  twice: number;
  /** From the heal to the first decision for an event stored while the link was down (ms). */
  decidingAgainMs: number;
  /** /health after the heal: the first 200, and how many times it left 200 after that. */
  healthOkAfterMs: number | undefined;
  healthFlaps: number;
  /** Polls of /health after it was back that got no answer within a second. */
  healthNoAnswer: number;
  /** The processor said events were lost to stream limits (it must not: the stream holds them all). */
  reportedLost: number;
  /** What the processor's log says happened (reconnects, repositions). */
  notes: string[];
}

const PARTITIONS = 4;
const TOKEN = "partition-test-token";

function overlay(deployment: Deployment): unknown {
  return {
    partitions: PARTITIONS,
    processor: { checkpointEverySec: 5, checkpointEveryEvents: 1000 },
    ...(deployment === "partitioned" ? { scale: { enabled: true, leaseTtlSec: 10, syncEveryMs: 1000 } } : {}),
    log: { level: "info" },
  };
}

/** Views (each a decision point: the first view of a product in a visit) and clicks, interleaved. */
function shoppers(n: number, runId: string): ShopEvent[] {
  const out: ShopEvent[] = [];
  const products = [
    ["sku-001", "home", 3_000],
    ["sku-002", "electronics", 12_000],
    ["sku-003", "toys", 2_500],
    ["sku-004", "beauty", 4_000],
  ] as const;
  for (let i = 0; i < n; i++) {
    const [productId, category, priceCents] = products[i % products.length]!;
    const customerId = `c${runId}-${i}`;
    out.push({ type: "view", id: `v${runId}-${i}`, ts: 0, customerId, sessionId: `s${runId}-${i}`, productId, category, priceCents });
    if (i % 5 === 4) out.push({ type: "click", id: `k${runId}-${i}`, ts: 0, customerId, sessionId: `s${runId}-${i}`, productId, category });
  }
  return out;
}

async function health(url: string): Promise<number> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

export async function runCut(o: CutOptions): Promise<CutResult> {
  const points = o.points ?? 3_000;
  const publishMs = o.publishMs ?? 30_000;
  const cutAfter = o.cutAfter ?? Math.round(points / 3);
  const runId = Math.random().toString(36).slice(2, 7);
  const subjects = new Subjects();
  let lab: NetLab | undefined;
  let server: NatsServerHandle | undefined;
  let proc: Child | undefined;
  let nc: NatsConnection | undefined;
  try {
    lab = createNetLab();
    const host = lab.host("proc");
    // The server listens on the lab's network only: the processor reaches it over the link that is cut.
    server = await startNatsServer({ host: lab.rootIp, port: -1 });
    const metricsPort = 9400 + Math.floor(Math.random() * 500);
    proc = spawnPart(
      "processor",
      {
        NATS_URL: server.url,
        CONFIG_FILE: configFile(overlay(o.deployment)),
        METRICS_PORT: String(metricsPort),
        HOST: host.ip,
        API_TOKEN: TOKEN,
        ...(o.deployment === "partitioned" ? { SCALE: "true", INSTANCE_ID: `proc-${runId}` } : {}),
      },
      host.prefix,
    );
    const healthUrl = `http://${host.ip}:${metricsPort}/health`;
    await waitFor("the processor's /health", async () => (await health(healthUrl)) === 200, 60_000, 250);

    nc = await connect({ servers: server.url });
    // Every decision as it is published (copies included), with when it was first seen.
    const firstSeen = new Map<string, number>();
    const sub = nc.subscribe("decisions.>", {
      callback: (_err, m) => {
        const d = m.json<Decision>();
        if (!firstSeen.has(d.eventId)) firstSeen.set(d.eventId, Date.now());
      },
    });

    const events = shoppers(points, runId);
    const viewIds = events.filter((e) => e.type === "view").map((e) => e.id);
    /** When each event was first sent to the server (it cannot have been stored before). */
    const sentAt = new Map<string, number>();
    const pub = new PipelinedPublisher(nc, 1_000, 5_000);
    const t0 = Date.now();
    let cutAt = 0;
    let cutDoneAt = 0;
    let healAt = 0;
    // /health from the heal on, every 200 ms, until every decision point is decided (and 5 s more).
    const healthLog: { at: number; status: number }[] = [];
    let watching = true;
    let watcher: Promise<void> = Promise.resolve();
    const cutDone = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!cutAt && firstSeen.size >= cutAfter) {
          cutAt = Date.now();
          host.cut();
          cutDoneAt = Date.now();
          setTimeout(() => {
            host.heal();
            healAt = Date.now();
            watcher = (async () => {
              while (watching) {
                const at = Date.now();
                healthLog.push({ at, status: await health(healthUrl) });
                await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - at))));
              }
            })();
            resolve();
          }, o.cutMs);
        }
        if (cutAt) clearInterval(check);
      }, 20);
    });
    // The producer: a steady pace, each event retried with its id until the server stores it.
    const pending: Promise<void>[] = [];
    for (let i = 0; i < events.length; i++) {
      const due = t0 + (i * publishMs) / events.length;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const e = { ...events[i]!, ts: Date.now() } as ShopEvent;
      sentAt.set(e.id, Date.now());
      pending.push(
        (async () => {
          for (let attempt = 0; ; attempt++) {
            const { acked } = await pub.publish(subjects.forEvent(e, PARTITIONS), encodeEvent(e), e.id);
            if ((await acked).ok) return;
            if (attempt > 100) throw new Error(`event ${e.id} not stored`);
            await new Promise((r) => setTimeout(r, 200));
          }
        })(),
      );
    }
    await Promise.all(pending);
    await cutDone;

    const everything = waitFor("every decision point seen decided", () => viewIds.every((id) => firstSeen.has(id)), 120_000, 250).catch(() => undefined);
    await everything;
    await new Promise((r) => setTimeout(r, 5_000));
    watching = false;
    await watcher;
    sub.unsubscribe();

    const stored = new Map<string, number>();
    for (const m of await readStream(nc, "DECISIONS")) {
      const d = JSON.parse(new TextDecoder().decode(m.data)) as Decision;
      stored.set(d.eventId, (stored.get(d.eventId) ?? 0) + 1);
    }
    const decided = viewIds.filter((id) => stored.has(id)).length;
    const twice = viewIds.filter((id) => (stored.get(id) ?? 0) > 1).length;
    // Deciding again: the first decision for an event first sent once the link was down (the
    // processor could not have read it before the heal).
    const afterHeal = viewIds.filter((id) => (sentAt.get(id) ?? 0) > cutDoneAt && firstSeen.has(id)).map((id) => firstSeen.get(id)!);
    const decidingAgainMs = afterHeal.length ? Math.min(...afterHeal) - healAt : Number.NaN;
    const okIdx = healthLog.findIndex((h) => h.status === 200);
    // A flap: 200, then the processor itself answering otherwise. A poll it did not answer within a
    // second (a busy machine) is counted apart.
    let flaps = 0;
    let noAnswer = 0;
    let last = 200;
    for (let i = okIdx + 1; okIdx >= 0 && i < healthLog.length; i++) {
      const st = healthLog[i]!.status;
      if (st === 0) noAnswer++;
      else {
        if (st !== 200 && last === 200) flaps++;
        last = st;
      }
    }
    const out = proc.output();
    const reportedLost = [...out.matchAll(/"lost":(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    const notes = [...new Set([...out.matchAll(/"msg":"([^"]*(?:reposition|reconnect|stale|gap|lost|lease)[^"]*)"/gi)].map((m) => m[1]!))];
    return {
      deployment: o.deployment,
      cutMs: o.cutMs,
      points,
      decided,
      lost: points - decided,
      twice,
      decidingAgainMs,
      healthOkAfterMs: okIdx >= 0 ? healthLog[okIdx]!.at - healAt : undefined,
      healthFlaps: flaps,
      healthNoAnswer: noAnswer,
      reportedLost,
      notes,
    };
  } finally {
    const label = o.label ?? `partition-${o.deployment}-${o.cutMs}`;
    if (proc) {
      proc.signal("SIGKILL");
      await proc.exited;
      writeFileSync(join(testOutputDir(), `${label}-processor.log`), proc.output());
    }
    if (server) writeFileSync(join(testOutputDir(), `${label}-nats.log`), server.log());
    await nc?.close().catch(() => undefined);
    await server?.stop();
    lab?.close();
  }
}
