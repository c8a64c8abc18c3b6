// Decide requests across a kill -9 of the processor (issue 22): shoppers keep asking for decisions
// through POST /api/decide, each request retried under its event id until it has an answer that is not
// "timeout", while the processor is killed with -9 and started again. No request may be answered with
// two different decisions, and no decision point may be decided twice.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testOutputDir } from "../support/chromium.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Decision, DecideAnswer } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { readStream } from "../support/streams.ts";
import { startParts, testConfig, waitFor } from "../support/system.ts";

let nats: NatsServerHandle | undefined;
let server: Running | undefined;
let nc: NatsConnection | undefined;
const children: Child[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.signal("SIGKILL");
    await c.exited;
  }
  await nc?.close();
  await server?.stop();
  await nats?.stop();
  nats = server = nc = undefined;
});

const REQUESTS = 600;
const CONCURRENCY = 12;

describe("decide requests across a kill -9 of the processor", { timeout: 120_000 }, () => {
  it("never answer one event with two decisions, and decide no decision point twice", async () => {
    nats = await jetstreamServer();
    const overlay = { partitions: 4, processor: { checkpointEverySec: 1, checkpointEveryEvents: 100 }, decide: { timeoutMs: 150 } };
    const cfg = testConfig(nats.url, overlay as never);
    nc = await connect({ servers: nats.url });
    await provision(nc, cfg, createLogger("silent"));
    server = await startParts("server", cfg);
    const env = { NATS_URL: nats.url, CONFIG_FILE: configFile(overlay) };
    const spawnProcessor = () => {
      const c = spawnPart("processor", env);
      children.push(c);
      return c;
    };
    let proc = spawnProcessor();
    await waitFor("the processor consuming", () => /processor consuming/.test(proc.output()), 30_000);

    const url = new URL("/api/decide", server.url!);
    /** Every answer each event id got (retries included), as JSON. */
    const answers = new Map<string, string[]>();
    let timeouts = 0;
    let shed = 0;
    // Shopper i views product a, then (every third) the same product again: a decision point, then not one.
    const events = Array.from({ length: REQUESTS }, (_, k) => {
      const i = Math.floor(k / 2);
      const again = k % 2 === 1 && i % 3 === 0;
      return { type: "view", id: `kv-${k}`, customerId: `kc-${again ? i : k}`, sessionId: `ks-${again ? i : k}`, productId: `sku-00${i % 4}`, category: "home", priceCents: 2_000 + (i % 7) * 100 };
    });
    let next = 0;
    let killed = false;
    const ask = async () => {
      while (next < events.length) {
        const e = events[next++]!;
        if (!killed && next > REQUESTS / 3) {
          killed = true;
          proc.signal("SIGKILL");
          await proc.exited;
          setTimeout(() => (proc = spawnProcessor()), 1_000);
        }
        // Asked until answered (a timeout, or a 503 while the server sheds, is no answer), then once more:
        // the same answer again.
        for (let round = 0; round < 2; round++) {
          for (;;) {
            const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(e) });
            const a = (await r.json()) as DecideAnswer;
            if (r.status === 200 && (a.decision || a.reason !== "timeout")) {
              answers.set(e.id, [...(answers.get(e.id) ?? []), JSON.stringify(a)]);
              break;
            }
            if (r.status === 200) timeouts++;
            else if (r.status === 503) shed++;
            else throw new Error(`${e.id}: HTTP ${r.status} ${JSON.stringify(a)}`);
            await new Promise((res) => setTimeout(res, 20));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, ask));
    expect(killed).toBe(true);
    console.log(`decide across kill -9: ${REQUESTS} events, ${timeouts} timed-out answers and ${shed} shed requests retried`);

    const differing = [...answers].filter(([, as]) => new Set(as).size > 1);
    if (differing.length) writeFileSync(join(testOutputDir(), "decide-crash-differing.json"), JSON.stringify(differing.map(([id, as]) => ({ id, answers: [...new Set(as)].map((a) => JSON.parse(a) as unknown) })), null, 2));
    expect(differing.map(([id]) => id), "events answered differently (test-output/decide-crash-differing.json)").toEqual([]);
    expect(answers.size).toBe(REQUESTS);
    const decided = [...answers.values()].map((as) => JSON.parse(as[0]!) as DecideAnswer);
    const withDecision = decided.filter((a) => a.decision).map((a) => a.decision!);
    expect(withDecision.length).toBeGreaterThan(REQUESTS / 2);
    expect(decided.filter((a) => !a.decision).every((a) => a.reason === "not-a-decision-point")).toBe(true);
    // DECISIONS holds each decision once, the very one answered.
    const stored = (await readStream(nc, "DECISIONS")).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as Decision);
    const byEvent = new Map<string, Decision[]>();
    for (const d of stored) byEvent.set(d.eventId, [...(byEvent.get(d.eventId) ?? []), d]);
    for (const d of withDecision) expect(byEvent.get(d.eventId), d.eventId).toEqual([d]);
    expect(stored.length).toBe(withDecision.length);
  });
});
