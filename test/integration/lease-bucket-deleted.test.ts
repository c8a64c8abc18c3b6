// The lease bucket deleted while partitioned instances run (an operator's `nats kv rm PS_LEASES`): the
// instances make it again and go on sharing the partitions through it, so one that dies later still
// has its partitions taken over.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { testOutputDir } from "../support/chromium.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { decisionsByEvent, LEASE_TEST_OVERLAY, publishWithRetry, visitMaker } from "../support/shoppers.ts";
import { waitFor } from "../support/system.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const overlay = LEASE_TEST_OVERLAY;
const PARTITIONS = overlay.partitions;

let server: NatsServerHandle | undefined;
let nc: NatsConnection | undefined;
const children: Child[] = [];

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") for (const [i, c] of children.entries()) writeFileSync(join(testOutputDir(), `lease-bucket-deleted-${i}.log`), c.output());
  for (const c of children.splice(0)) c.signal("SIGKILL");
  await nc?.close();
  await server?.stop();
});

function processor(id: string): Child {
  const c = spawnPart("processor", { NATS_URL: server!.url, CONFIG_FILE: configFile(overlay), INSTANCE_ID: id });
  children.push(c);
  return c;
}

const consuming = (c: Child) => (c.output().match(/processor consuming/g) ?? []).length;

it("partitions are taken over after the lease bucket was deleted and an instance died", { timeout: 240_000 }, async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  const shoppers = visitMaker();
  const a = processor("A");
  await waitFor("A running", () => /instance running/.test(a.output()), 60_000);
  const b = processor("B");
  // The partitions split between the two (A gives two back once B's heartbeat shows).
  await waitFor("B holding partitions", () => consuming(b) >= 2, 60_000);
  const ids: string[] = [];
  const first = shoppers.visits(40, T0 + 1_000);
  ids.push(...first.map((e) => e.id));
  await publishWithRetry(nc, first, PARTITIONS);
  await waitFor("the first visits decided", async () => (await decisionsByEvent(nc!)).size === ids.length, 60_000, 300);

  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(`KV_PS_LEASES`);
  // A few lease rounds without the bucket, then B dies.
  await new Promise((r) => setTimeout(r, 3_000));
  b.signal("SIGKILL");
  await b.exited;
  const later = shoppers.visits(40, T0 + 60_000);
  ids.push(...later.map((e) => e.id));
  await publishWithRetry(nc, later, PARTITIONS);
  try {
    const by = await waitFor("the later visits decided", async () => {
      const m = await decisionsByEvent(nc!);
      return ids.every((id) => m.has(id)) ? m : undefined;
    }, 60_000, 500);
    for (const id of ids) expect(by.get(id)!.length, id).toBe(1);
  } finally {
    console.log(a.output().split("\n").filter((l) => /lease|partition|bucket/.test(l)).slice(-12).map((l) => l.slice(0, 260)).join("\n"));
  }
});
