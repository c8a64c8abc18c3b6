// The latency section's load generator in a process of its own (bench/latency.bench.ts): it publishes
// packed feeds (bench/feed.ts packFeed) on schedule and times each decision point's decision.
//
// Why a child: in the benchmark's own process the feed shared a heap of 300–550 MB (the generated
// stream, the simulator, an in-process engine), whose young-generation collections took 3–18 ms
// every few hundred ms during the 5,000/s phase (--trace-gc, 2026-11-30). The feed measures from the
// scheduled send to the receipt, so each such pause of the sender or the receiver showed as latency
// of the processor. Here the heap holds a few arrays and one buffer of payloads.
//
// IPC: the parent sends {type:"run", …}; the child answers {type:"result", index, result} per phase,
// then {type:"done"}, or {type:"error", error}.
import type { Config } from "../src/config/index.ts";
import { connectNats, PipelinedPublisher } from "../src/io/nats/index.ts";
import { createLogger } from "../src/log/index.ts";
import { serveRun } from "./child-ipc.ts";
import { DecisionWatch, loadFeed, runFeed, type FeedResult } from "./feed.ts";

export interface FeedPhase {
  /** A packed feed (packFeed's file name, without .json/.bin). */
  file: string;
  ratePerSec: number;
}

export type ToFeedChild = { type: "run"; natsUrl: string; nats: Config["nats"]; maxInFlight: number; phases: FeedPhase[] };
export type FromFeedChild = { type: "result"; index: number; result: FeedResult };

const send = (m: FromFeedChild) => process.send?.(m);

async function run(m: Extract<ToFeedChild, { type: "run" }>): Promise<void> {
  const log = createLogger("warn", "bench:feed");
  // Sender and receiver on their own connections, so receipts never queue behind the sender's writes.
  const sendConn = await connectNats(m.nats, m.natsUrl, "bench-latency-send", log);
  const recvConn = await connectNats(m.nats, m.natsUrl, "bench-latency-recv", log);
  const pub = new PipelinedPublisher(sendConn, m.maxInFlight);
  const watch = new DecisionWatch(recvConn, m.nats.subjectPrefix);
  try {
    for (const [index, phase] of m.phases.entries()) {
      // Loaded phase by phase: only one phase's events in memory at a time.
      const result = await runFeed(pub, watch, loadFeed(phase.file), phase.ratePerSec);
      send({ type: "result", index, result });
    }
  } finally {
    watch.close();
    pub.close();
    await sendConn.drain().catch(() => undefined);
    await recvConn.drain().catch(() => undefined);
  }
}

serveRun<ToFeedChild>(run);
