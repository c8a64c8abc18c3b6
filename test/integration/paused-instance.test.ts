// A partitioned instance paused (SIGSTOP) for longer than a lease TTL, then resumed (SIGCONT), after
// another instance took its partitions over: the resumed one stops them without writing anything of
// theirs. Its final checkpoint used to move the heads the new owner had restored, and the owner's next
// checkpoint then failed its revision check and fenced the owner off its own partitions.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
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
  if (ctx.task.result?.state === "fail") for (const [i, c] of children.entries()) writeFileSync(join(testOutputDir(), `paused-instance-${i}.log`), c.output());
  for (const c of children.splice(0)) {
    c.signal("SIGCONT");
    c.signal("SIGKILL");
  }
  await nc?.close();
  await server?.stop();
});

function processor(id: string): Child {
  const c = spawnPart("processor", { NATS_URL: server!.url, CONFIG_FILE: configFile(overlay), INSTANCE_ID: id });
  children.push(c);
  return c;
}

const acquiredFrom = (c: Child, from: string) => [...c.output().matchAll(new RegExp(`"partition":(\\d+),"previousOwner":"${from}"`, "g"))].length;

it("a paused instance that lost its leases leaves the new owner's checkpoints alone", { timeout: 240_000 }, async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  const shoppers = visitMaker();
  // The default checkpoint interval (30 s): the new owner has written no checkpoint yet when the paused
  // instance wakes up, as after most takeovers.
  const a = processor("A");
  await waitFor("A running with every partition", () => /instance running/.test(a.output()) && (a.output().match(/processor consuming/g) ?? []).length === PARTITIONS, 60_000);
  const first = shoppers.visits(40, T0 + 1_000);
  await publishWithRetry(nc, first, PARTITIONS);
  await waitFor("the visits decided", async () => (await decisionsByEvent(nc!)).size === first.length, 60_000, 300);
  // (A has acknowledged them: its stop would otherwise have more to do than to checkpoint.)
  await new Promise((r) => setTimeout(r, 1_000));

  a.signal("SIGSTOP");
  const b = processor("B");
  await waitFor("B consuming every partition", () => acquiredFrom(b, "A") === PARTITIONS && (b.output().match(/processor consuming/g) ?? []).length === PARTITIONS, 60_000);
  const resumedAt = a.output().length;
  a.signal("SIGCONT");
  await waitFor("A to let go of every partition", () => (a.output().slice(resumedAt).match(/partition lease lost|another instance owns this partition now/g) ?? []).length >= PARTITIONS, 60_000);
  await waitFor("A to stop the partitions it lost", () => (a.output().slice(resumedAt).match(/processor stopped/g) ?? []).length >= PARTITIONS, 60_000);

  // B goes on, and its checkpoints (the final ones of a Ctrl-C here) move the heads it restored.
  const second = shoppers.visits(40, T0 + 60_000);
  await publishWithRetry(nc, second, PARTITIONS);
  await waitFor("the later visits decided", async () => (await decisionsByEvent(nc!)).size === first.length + second.length, 60_000, 300);
  const stoppedAt = b.output().length;
  b.signal("SIGTERM");
  await b.exited;
  const bLog = b.output();
  console.log("A after SIGCONT:\n" + a.output().slice(resumedAt).split("\n").filter((l) => /checkpoint|fenc|lease|stopp/.test(l)).map((l) => l.slice(0, 260)).join("\n"));
  console.log("B:\n" + bLog.split("\n").filter((l) => /checkpoint|another instance|PS_ERR_STATE/.test(l)).map((l) => l.slice(0, 260)).join("\n"));
  expect(bLog).not.toMatch(/another instance owns this partition now/);
  expect(bLog.slice(stoppedAt)).not.toMatch(/PS_ERR_STATE_CONFLICT/);
});
