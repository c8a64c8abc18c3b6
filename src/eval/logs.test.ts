import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import type { ShopEvent } from "../events/index.ts";
import { readLogFile } from "./logs.ts";

const dir = mkdtempSync(join(tmpdir(), "ps-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a shop's log read back (readLogFile, as from the streams)", () => {
  it("leaves partitions' internal events out without counting them as unreadable, also those larger than a shop's event may be", async () => {
    const cfg = loadConfig({ env: {} });
    const ts = Date.parse("2026-03-02T08:00:00Z");
    const view: ShopEvent = { type: "view", id: "v1", ts, customerId: "c1", productId: "sku-001" };
    // A sync table of many promotions: above processor.maxEventBytes, within the stream's limit.
    const arms = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`promo-${i}`, { "": [1.5, 20.25, ts] as [number, number, number] }]));
    const sync: ShopEvent = { type: "sync", id: "sync-a-p1-1.0", ts, from: 1, arms };
    const syncBytes = JSON.stringify(sync).length;
    expect(syncBytes).toBeGreaterThan(cfg.processor.maxEventBytes);
    expect(syncBytes).toBeLessThan(cfg.streams.events.maxMsgBytes);
    const file = join(dir, "log.jsonl");
    writeFileSync(file, [`{"stream":"EVENTS","m":${JSON.stringify(view)}}`, `{"stream":"EVENTS","m":${JSON.stringify(sync)}}`].join("\n") + "\n");
    const { log, counts } = await readLogFile(file, cfg);
    expect(log.events.map((e) => e.id)).toEqual(["v1"]);
    expect(counts.skipped.EVENTS).toBe(0);
  });
});

describe("a log file with repeated lines", () => {
  it("counts each event, decision and outcome once, and the repeats apart", async () => {
    const cfg = loadConfig({ env: {} });
    const ts = Date.parse("2026-03-02T08:00:00Z");
    const views: ShopEvent[] = ["v1", "v2"].map((id) => ({ type: "view", id, ts, customerId: "c1", productId: "sku-001" }));
    const file = join(dir, "repeated.jsonl");
    const lines = [...views, views[0]!].map((e) => JSON.stringify({ stream: "EVENTS", m: e }));
    writeFileSync(file, `${[...lines, lines[1]!].join("\n")}\n`);
    const { log, counts } = await readLogFile(file, cfg);
    expect(counts.events).toBe(2);
    expect(counts.repeated.EVENTS).toBe(2);
    // Kept as the stream held them: the engine drops a repeated event as the processor's did.
    expect(log.events.map((e) => e.id)).toEqual(["v1", "v2", "v1", "v2"]);
  });
});
