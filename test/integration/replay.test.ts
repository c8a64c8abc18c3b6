// `replay` end to end on a real nats-server: the command (config loader, connect, provisioning,
// publisher) publishes each dataset, and the events are counted on the EVENTS stream itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { partitionOf } from "../../src/events/index.ts";
import { replayCli } from "../../simulator/replay/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";

const SEED = "/work/shared/datasets/seed-clickstream/ecommerce_clickstream_transactions.csv";
const HILLSTROM = "/work/shared/datasets/hillstrom/hillstrom-dev.csv";
const PARTITIONS = 8;

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
const dir = mkdtempSync(join(tmpdir(), "ps-replay-"));

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Each test starts from an empty EVENTS stream (the command provisions it again).
beforeEach(async () => {
  await jsm.streams.delete("EVENTS").catch(() => undefined);
});

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), text: () => chunks.join("") };
}

async function replay(...args: string[]) {
  return replayWith({}, ...args);
}

async function replayWith(env: Record<string, string>, ...args: string[]) {
  const out = capture();
  const err = capture();
  const t0 = performance.now();
  const code = await replayCli(["--format", ...args], {
    env: { NATS_URL: server.url, PARTITIONS: String(PARTITIONS), LOG_LEVEL: "silent", ...env },
    stdout: out.stream,
    stderr: err.stream,
    signal: new AbortController().signal,
  });
  return { code, stdout: out.text(), stderr: err.text(), ms: performance.now() - t0 };
}

/** Messages per event type on the stream, from the server's per-subject counts. */
async function storedByType(): Promise<Record<string, number>> {
  const si = await jsm.streams.info("EVENTS", { subjects_filter: "events.>" });
  const out: Record<string, number> = {};
  for (const [subject, n] of Object.entries(si.state.subjects ?? {})) {
    const type = subject.split(".")[1]!;
    out[type] = (out[type] ?? 0) + n;
  }
  return out;
}

/** Every stored event in stream order (ordered consumer). */
async function storedEvents(): Promise<{ subject: string; e: { id: string; ts: number; customerId?: string; type: string } }[]> {
  const total = (await jsm.streams.info("EVENTS")).state.messages;
  const c = await jetstream(nc).consumers.get("EVENTS");
  const out: { subject: string; e: { id: string; ts: number; customerId?: string; type: string } }[] = [];
  if (total === 0) return out;
  const msgs = await c.consume({ max_messages: 2000 });
  for await (const m of msgs) {
    out.push({ subject: m.subject, e: m.json() });
    if (out.length >= total) break;
  }
  await msgs.close();
  return out;
}

function expectTimeOrder(events: { e: { ts: number } }[]): void {
  let backwards = 0;
  for (let i = 1; i < events.length; i++) if (events[i]!.e.ts < events[i - 1]!.e.ts) backwards++;
  expect(backwards).toBe(0);
}

function expectOwnPartitions(events: { subject: string; e: { customerId?: string } }[]): void {
  const wrong = events.filter((x) => x.e.customerId !== undefined && x.subject.split(".")[2] !== String(partitionOf(x.e.customerId, PARTITIONS)));
  expect(wrong).toEqual([]);
}

// Expected counts computed independently with Python's csv module over the files (row counts per
// EventType; per visit/conversion flag); both files have no malformed row.
describe("replay of the datasets", () => {
  it(
    "seed-clickstream: publishes 64,132 events in event-time order, skips 10,685 logouts, 0 malformed",
    async () => {
      const r = await replay("seed-clickstream", SEED);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^replay seed-clickstream: 74817 rows, published 64132 events \(.*\), 0 already in the stream, malformed 0 rows, skipped 10685 rows/);
      expect(r.stdout).toContain("late 0, failed 0");
      expect(await storedByType()).toEqual({ visit: 10568, view: 10819 + 10696, click: 10632, cart: 10735, purchase: 10682 });
      const stored = await storedEvents();
      expect(stored).toHaveLength(64132);
      // The file is grouped by user with times all over seven months: sorted on the way out.
      expectTimeOrder(stored);
      expectOwnPartitions(stored);
      expect(new Set(stored.map((x) => x.e.id)).size).toBe(64132);
      // Not a TTY here: plain progress lines, no cursor codes.
      expect(r.stderr).toMatch(/replay seed-clickstream 100% \| 74,817\/74,817 rows \| 64,132 events/);
      expect(r.stderr).not.toContain("\u001b[");
    },
    300_000,
  );

  it(
    "hillstrom: publishes a send per customer plus 4,688 visits and 281 purchases (36,969 events), 0 malformed",
    async () => {
      const r = await replay("hillstrom", HILLSTROM);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^replay hillstrom: 32000 rows, published 36969 events \(send 32000, visit 4688, purchase 281\), 0 already in the stream, malformed 0 rows, skipped 0 rows/);
      expect(await storedByType()).toEqual({ send: 32000, visit: 4688, purchase: 281 });
      const stored = await storedEvents();
      expectTimeOrder(stored);
      expectOwnPartitions(stored);
      const sends = stored.filter((x) => x.e.type === "send") as unknown as { e: { reason: string } }[];
      const arms: Record<string, number> = {};
      for (const s of sends) arms[s.e.reason] = (arms[s.e.reason] ?? 0) + 1;
      expect(arms).toEqual({ "hillstrom:mens-email": 10582, "hillstrom:womens-email": 10740, "hillstrom:no-email": 10678 });
    },
    300_000,
  );
});

describe("replay of hand-made logs with known faults", () => {
  const seedCsv = join(dir, "seed.csv");
  writeFileSync(
    seedCsv,
    [
      "UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome",
      "1,1,2024-03-01 10:05:00.000000,page_view,,,", // 2: view, no product (normal)
      "1,1,2024-03-01 10:00:00.000000,login,,,", // 3: visit, earlier than line 2
      "1,1,2024-03-01 10:06:00.000000,product_view,prod_1,,", // 4: view
      "1,1,2024-03-01 10:07:00.000000,add_to_cart,prod_1,,", // 5: cart
      "1,1,2024-03-01 10:08:00.000000,purchase,prod_1,19.99,purchase", // 6: purchase
      "1,1,2024-03-01 10:09:00.000000,logout,,,", // 7: skipped
      "2,1,2024-02-01 09:00:00.000000,login,,,", // 8: visit, a month earlier
      "2,1,2024-02-01 09:01:00.000000,product_view,,,", // 9: malformed, no product
      "2,1,not a time,click,,,", // 10: malformed time
      "2,1,2024-02-01 09:02:00.000000,purchase,prod_2,,purchase", // 11: malformed, no amount
      "2,1,2024-02-01 09:03:00.000000,click,prod_2,,,extra", // 12: malformed, 8 fields
      "2,1,2024-02-01 09:04:00.000000,teleport,,,", // 13: malformed type
      "2,1,2024-02-01 09:05:00.000000,click,prod_2,,", // 14: click
    ].join("\n") + "\n",
  );

  it("publishes the good rows in time order, reports each malformed row with its line, and a re-run is deduplicated", async () => {
    const r = await replay("seed-clickstream", seedCsv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^replay seed-clickstream: 13 rows, published 7 events .*0 already in the stream, malformed 5 rows, skipped 1 rows \(1 logout/);
    for (const line of [9, 10, 11, 12, 13]) expect(r.stderr).toContain(`  line ${line}: `);
    expect(r.stderr).toContain("5 malformed rows were not published");
    expect(r.stderr).toMatch(/line 12: 8 fields, expected 7/);
    const stored = await storedEvents();
    expect(stored.map((x) => `${x.e.type}@${new Date(x.e.ts).toISOString().slice(5, 16)}`)).toEqual([
      "visit@02-01T09:00",
      "click@02-01T09:05",
      "visit@03-01T10:00",
      "view@03-01T10:05",
      "view@03-01T10:06",
      "cart@03-01T10:07",
      "purchase@03-01T10:08",
    ]);
    const again = await replay("seed-clickstream", seedCsv);
    expect(again.stdout).toMatch(/published 7 events .*, 7 already in the stream, malformed 5 rows/);
    expect((await jsm.streams.info("EVENTS")).state.messages).toBe(7);
  });

  it("segment: publishes a shop's Segment calls (single and batched) in time order, counts the rest, and a re-run is deduplicated", async () => {
    // Properties from the e-commerce spec v2's Product Viewed and Product Added examples
    // (https://segment.com/docs/connections/spec/ecommerce/v2/#product-viewed, #product-added), cut to
    // the fields that matter here; the call around them is the HTTP API's track call.
    const f = join(dir, "shop.jsonl");
    const track = (event: string, messageId: string | undefined, timestamp: string, properties: object) => ({ type: "track", event, userId: "019mr8mf4r", timestamp, properties, ...(messageId ? { messageId } : {}) });
    writeFileSync(
      f,
      [
        JSON.stringify(track("Product Added", "m-2", "2026-03-02T08:01:00Z", { cart_id: "skdjsidjsdkdj29j", product_id: "507f1f77bcf86cd799439011", category: "Games", price: 18.99, quantity: 1, name: "Monopoly: 3rd Edition" })),
        JSON.stringify({ batch: [{ type: "identify", userId: "019mr8mf4r", traits: { name: "Peter Gibbons" } }, track("Product Viewed", "m-1", "2026-03-02T08:00:00Z", { product_id: "507f1f77bcf86cd799439011", category: "Games", price: 18.99, brand: "Hasbro" }), track("Product Viewed", undefined, "2026-03-02T08:00:30Z", { sku: "G-32" })] }),
        "not json",
      ].join("\n") + "\n",
    );
    const r = await replay("segment", f);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^replay segment: 3 rows, calls: 2 mapped, 1 ignored \(identify 1\), 1 rejected \(missing-message-id 1\), dropped fields \((properties\.\w+ 1(, )?)+\), published 2 events \(view 1, cart 1\), 0 already in the stream, malformed 1 rows/);
    expect(r.stderr).toContain("1 calls were rejected (not published)");
    expect(r.stderr).toMatch(/line 2: missing-message-id: messageId is absent/);
    expect(r.stderr).toMatch(/line 3: not JSON/);
    const stored = await storedEvents();
    expect(stored.map((x) => [x.e.id, x.e.type, x.subject])).toEqual([
      ["m-1", "view", `events.view.${partitionOf("019mr8mf4r", PARTITIONS)}`],
      ["m-2", "cart", `events.cart.${partitionOf("019mr8mf4r", PARTITIONS)}`],
    ]);
    const again = await replay("segment", f);
    expect(again.stdout).toMatch(/published 2 events .*, 2 already in the stream/);
    expect((await jsm.streams.info("EVENTS")).state.messages).toBe(2);
  });

  it("a re-run after EVENTS' duplicate window (a crash mid-replay, restarted later) publishes only what the stream does not hold", async () => {
    // EVENTS remembers msg ids for 1 s here (120 s by default): a replay that crashed and is started
    // again after that, or a file replayed again the next day, is past the server's deduplication.
    const cfg = join(dir, "short-window.json");
    writeFileSync(cfg, JSON.stringify({ streams: { events: { duplicateWindowSec: 1 } } }));
    // The "crash": only the first 6 rows got out (the same rows give the same ids).
    const part = join(dir, "seed-part.csv");
    writeFileSync(part, readFileSync(seedCsv, "utf8").split("\n").slice(0, 7).join("\n") + "\n");
    const first = await replayWith({ CONFIG_FILE: cfg }, "seed-clickstream", part);
    expect(first.stdout).toMatch(/published 5 events .*, 0 already in the stream/);
    await new Promise((r) => setTimeout(r, 2_000));
    const again = await replayWith({ CONFIG_FILE: cfg }, "seed-clickstream", seedCsv);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/published 7 events .*, 5 already in the stream, malformed 5 rows/);
    expect((await jsm.streams.info("EVENTS")).state.messages).toBe(7);
  });

  it("counts events that arrive later than the reorder buffer can fix, and still publishes them", async () => {
    const r = await replay("seed-clickstream", "--buffer", "1", seedCsv);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/published 7 events/);
    const late = Number(/late (\d+)/.exec(r.stdout)![1]);
    expect(late).toBeGreaterThan(0);
    expect(r.stderr).toContain(`${late} events were older than ones already published`);
    expect((await jsm.streams.info("EVENTS")).state.messages).toBe(7);
  });

  it("paces by the log's own time at --speed: 4 s of log at 2× takes at least 2 s", async () => {
    const f = join(dir, "paced.csv");
    writeFileSync(
      f,
      ["UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome", ...[0, 1, 2, 3, 4].map((s) => `1,1,2024-03-01 10:00:0${s}.000000,click,,,`)].join("\n"),
    );
    const r = await replay("seed-clickstream", "--speed", "2", f);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/published 5 events/);
    // A lower bound only: pacing may never run ahead of the log; a busy machine can only make it slower.
    expect(r.ms).toBeGreaterThanOrEqual(1_900);
  });

  it("hillstrom: publishes the good rows, reports malformed ones (bad width, unknown arm, conversion without visit, unclosed quote)", async () => {
    const f = join(dir, "hillstrom.csv");
    writeFileSync(
      f,
      [
        "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend",
        '10,"2) $100 - $200",142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0', // 2: send
        '6,"7) $1,000 +",1329.08,1,1,Rural,1,Web,No E-Mail,1,0,0', // 3: send, visit
        '9,"6) $750 - $1,000",875.83,1,0,Urban,1,Multichannel,Mens E-Mail,1,1,29.99', // 4: send, visit, purchase
        '2,"1) $0 - $100",29.99,1,0,Urban,1,Web,Mens E-Mail,1,1', // 5: 11 fields
        '3,"1) $0 - $100",29.99,1,0,Urban,1,Web,Text Message,0,0,0', // 6: unknown arm
        "4,1) $0 - $100,29.99,1,0,Urban,1,Web,Mens E-Mail,0,1,0", // 7: conversion without visit
        '5,"1) $0 - $100,29.99,1,0,Urban,1,Web,Mens E-Mail,0,0,0', // 8: unclosed quote
      ].join("\n") + "\n",
    );
    const r = await replay("hillstrom", f);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/published 6 events \(send 3, visit 2, purchase 1\), 0 already in the stream, malformed 4 rows/);
    expect(r.stderr).toMatch(/line 5: 11 fields, expected 12/);
    expect(r.stderr).toMatch(/line 6: segment "Text Message" is none of/);
    expect(r.stderr).toMatch(/line 7: conversion = 1 without a visit/);
    expect(r.stderr).toMatch(/line 8: unreadable CSV: Quote Not Closed/);
    expect(await storedByType()).toEqual({ send: 3, visit: 2, purchase: 1 });
  });
});
