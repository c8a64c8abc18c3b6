import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { AckFloorStore } from "./ackfloor.ts";

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  await new Kvm(nc).create("ACK_TEST", { history: 1 });
  await jsm.streams.add({ name: "EV", subjects: ["ev.>"] });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("AckFloorStore", () => {
  it("keeps the highest floor for its stream, and none for a stream made again (it numbers from 1 anew)", async () => {
    const s = new AckFloorStore(nc, jsm, "ACK_TEST", "proc", "EV");
    expect(await s.read()).toBe(0);
    await s.write(10);
    await s.write(5);
    expect(await new AckFloorStore(nc, jsm, "ACK_TEST", "proc", "EV").read()).toBe(10);
    // Another processor's floor is its own.
    expect(await new AckFloorStore(nc, jsm, "ACK_TEST", "proc-p1", "EV").read()).toBe(0);
    await jsm.streams.delete("EV");
    await new Promise((r) => setTimeout(r, 1_100)); // a new creation time
    await jsm.streams.add({ name: "EV", subjects: ["ev.>"] });
    expect(await s.read()).toBe(0);
  });
});
