// The decide request's load generator in a process of its own (bench/decide-api.bench.ts): open-loop
// POST /api/decide at fixed rates, each latency from the moment the request was due (feed.ts says why).
// node:http with a keep-alive agent rather than fetch: at thousands of requests a second fetch's
// per-request machinery (a Request, a Response, abort signals, streams) was the generator's own
// bottleneck, and its lag counted as the server's latency.
//
// IPC (child-ipc.ts): the parent sends {type:"run", url, phases}; the child answers {type:"phase", index}
// as each phase starts, {type:"result", index, result} as it ends, then "done" (or "error").
import { Agent } from "node:http";
import { serveRun } from "./child-ipc.ts";
import { runPhase, type LoadPhase, type LoadResult } from "./decide-load.ts";
import { sleep } from "./stats.ts";

export type { LoadPhase, LoadResult } from "./decide-load.ts";

export type ToLoadChild = { type: "run"; url: string; phases: LoadPhase[]; gapMs: number };
export type FromLoadChild = { type: "phase"; index: number } | { type: "result"; index: number; result: LoadResult };

const send = (m: FromLoadChild) => process.send?.(m);

async function run(m: ToLoadChild): Promise<void> {
  const url = new URL(m.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  let id = 0;
  for (const [index, phase] of m.phases.entries()) {
    send({ type: "phase", index });
    const result = await runPhase(url, agent, phase, id);
    id += Math.round(phase.ratePerSec * phase.seconds);
    send({ type: "result", index, result });
    await sleep(m.gapMs);
  }
  agent.destroy();
}

serveRun<ToLoadChild>(run);
