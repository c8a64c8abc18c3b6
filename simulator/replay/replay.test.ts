// replayFile interrupted (Ctrl-C): it stops at once, also in a wait for an event's time at --speed 1,
// and says how many events it had read and not published; every event read is either published or
// counted as not.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Subjects } from "../../src/events/index.ts";
import { MemorySink } from "../../test/support/memory-sink.ts";
import { replayFile, summaryLine } from "./replay.ts";
import { segment } from "./segment.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A log of `n` product views, `gapMs` of log time apart. */
function viewsFile(name: string, n: number, gapMs: number): string {
  const file = join(dir, name);
  const t0 = Date.parse("2024-03-01T00:00:00Z");
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: "track", event: "Product Viewed", userId: `c-${i % 7}`, messageId: `m-${i}`, timestamp: new Date(t0 + i * gapMs).toISOString(), properties: { product_id: `p-${i % 5}`, category: "games", price: 10 } }),
  );
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const common = { format: segment, subjects: new Subjects(), partitions: 4, maxEventBytes: 16_384 };

describe("replay interrupted", () => {
  it("at --speed 1 stops during an hour's wait, not after it, and counts what it read and did not publish", async () => {
    const file = viewsFile("hourly.jsonl", 5, 3_600_000);
    const ac = new AbortController();
    const sink = new MemorySink();
    setTimeout(() => ac.abort(), 200);
    // The first event sets the clock going; the second is due an hour later (the test's timeout would end it first).
    const r = await replayFile({ ...common, file, sink, speed: 1, bufferEvents: 2, signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(sink.got.map((m) => m.id)).toEqual(["m-0"]);
    expect(r.published).toBe(1);
    expect(r.unpublished).toBeGreaterThan(0);
    expect(r.published + r.unpublished).toBe(r.rows);
    expect(summaryLine(r)).toContain(`(interrupted: ${r.unpublished} events read and not published)`);
  });

  it("at max speed counts the events it had read into the reorder buffer and not published", async () => {
    const file = viewsFile("fast.jsonl", 200, 1_000);
    const ac = new AbortController();
    const sink = new MemorySink((n) => {
      if (n === 50) ac.abort();
    });
    const r = await replayFile({ ...common, file, sink, speed: "max", bufferEvents: 20, signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(r.published).toBe(50);
    // Read: the 50 published, and the 20 the buffer held (the read stops at the next row).
    expect(r.unpublished).toBeGreaterThanOrEqual(20);
    expect(r.published + r.unpublished).toBe(r.rows);
  });

  it("when not interrupted publishes every event and says nothing of it", async () => {
    const r = await replayFile({ ...common, file: viewsFile("all.jsonl", 30, 1_000), sink: new MemorySink(), speed: "max", bufferEvents: 20 });
    expect([r.aborted, r.published, r.unpublished]).toEqual([false, 30, 0]);
    expect(summaryLine(r)).not.toContain("interrupted");
  });
});
