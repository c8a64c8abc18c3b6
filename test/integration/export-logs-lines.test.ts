// `npm run eval -- --export-logs FILE` writes one JSON line per stored message. An event a shop's own
// producer published as pretty-printed JSON (JSON.stringify(ev, null, 2)) is a valid event the processor
// takes, but its newlines went into the file as they were: the record was cut into lines that are no
// record, skipped as "not JSON", and the event was missing from the what-if evaluation read from the file.
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { exportLogs, readLogFile } from "../../src/eval/logs.ts";
import { Subjects, type ShopEvent } from "../../src/events/index.ts";
import { provision } from "../../src/io/nats/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const cfg = loadConfig({ env: {} });
const t0 = Date.parse("2026-03-02T08:00:00Z");
const views: ShopEvent[] = Array.from({ length: 5 }, (_, i) => ({ type: "view", id: `v-${i}`, ts: t0 + i, customerId: `c-${i}`, productId: "sku-001", category: "home", priceCents: 3_000 }));

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await provision(nc, cfg, createLogger("silent"));
  dir = mkdtempSync(join(tmpdir(), "ps-export-lines-"));
  const js = jetstream(nc);
  const s = new Subjects();
  const enc = new TextEncoder();
  // Two compact, two pretty-printed (with \n and with \r\n), and one that is no JSON at all, across a line.
  await js.publish(s.forEvent(views[0]!, cfg.partitions), enc.encode(JSON.stringify(views[0])), { msgID: "v-0" });
  await js.publish(s.forEvent(views[1]!, cfg.partitions), enc.encode(JSON.stringify(views[1], null, 2)), { msgID: "v-1" });
  await js.publish(s.forEvent(views[2]!, cfg.partitions), enc.encode(JSON.stringify(views[2], null, 2).replace(/\n/g, "\r\n")), { msgID: "v-2" });
  await js.publish(s.forEvent(views[3]!, cfg.partitions), enc.encode("not json\n{}"), { msgID: "garbage" });
  await js.publish(s.forEvent(views[4]!, cfg.partitions), enc.encode(JSON.stringify(views[4])), { msgID: "v-4" });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await nc?.close();
  await server?.stop();
});

describe("--export-logs: one line per message, whatever the message's own line breaks", () => {
  it("keeps pretty-printed events whole, and counts a message that is no JSON as not decodable, not as lines that are no record", async () => {
    const file = join(dir, "shop.jsonl");
    const n = await exportLogs(nc, cfg, file);
    expect(n.EVENTS).toBe(5);
    expect(readFileSync(file, "utf8").trimEnd().split("\n")).toHaveLength(5);
    const { log, counts } = await readLogFile(file, cfg);
    expect(counts.badLines).toBe(0);
    expect(log.events.map((e) => e.id)).toEqual(["v-0", "v-1", "v-2", "v-4"]);
    expect(counts.skipped.EVENTS).toBe(1);
  });
});
