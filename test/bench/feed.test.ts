// The latency feed (bench/feed.ts): what its percentiles are made of.
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { DecisionWatch, runFeed } from "../../bench/feed.ts";
import type { WireEvent } from "../../bench/events.ts";
import type { PipelinedPublisher } from "../../src/io/nats/index.ts";

/** A connection whose decisions.> subscription hears what `answer` is told to send. */
function fakeConnection(): { nc: NatsConnection; answer: (eventId: string) => void } {
  let callback: ((err: Error | null, m: unknown) => void) | undefined;
  const nc = {
    subscribe: (_subject: string, o: { callback: typeof callback }) => {
      callback = o.callback;
      return { unsubscribe: () => undefined };
    },
  } as unknown as NatsConnection;
  const answer = (eventId: string) => setTimeout(() => callback?.(null, { headers: { get: (k: string) => (k === "Nats-Msg-Id" ? `d-${eventId}` : "") } }), 1);
  return { nc, answer };
}

describe("runFeed", () => {
  it("a decision point whose decision never comes counts in the percentiles at the time waited (at least the grace period), not left out", async () => {
    const { nc, answer } = fakeConnection();
    const watch = new DecisionWatch(nc, "");
    const events: WireEvent[] = Array.from({ length: 100 }, (_, i) => ({ subject: "events.view", data: new Uint8Array(1), id: `e${i}`, decisionPoint: true }));
    // The processor decides 90 of them at once; 10 (1 in 10) never.
    const pub = {
      tryPublish: (_s: string, _d: Uint8Array, id: string) => {
        if (Number(id.slice(1)) % 10 !== 0) answer(id);
        return true;
      },
      room: async () => undefined,
      flush: async () => true,
    } as unknown as PipelinedPublisher;
    const graceMs = 200;
    const r = await runFeed(pub, watch, events, 10_000, graceMs);
    expect(r.decisions).toBe(90);
    expect(r.missing).toBe(10);
    // 10% of the decision points waited the whole grace period and are still waiting: p99 says so.
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(graceMs);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(graceMs);
    watch.close();
  });
});
