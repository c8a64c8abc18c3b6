// Everyone waiting for room in the publisher's window gets it. The processor's publisher is shared by
// the loop's send (PublishAckQueue.send), a flush's send, and promo.control's publishes; a queue send
// woken by a freed slot may find the queue already emptied by the other send and publish nothing.
// With a small window (processor.maxInFlightPublishes) that used up the wake-up of the waiter behind
// it: that one then waited for a slot that no publish would ever free (nothing else in flight), and a
// promotion change never got stored or answered until the next event happened to publish something.
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { PipelinedPublisher } from "../../src/io/nats/index.ts";
import { PublishAckQueue } from "../../src/processor/publish-queue.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await jetstreamServer();
  nc = await connect({ servers: server.url });
  await (await jetstreamManager(nc)).streams.add({ name: "W", subjects: ["w.>"], storage: StorageType.File });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

it("a publish waiting for room behind the loop's send and a flush's send is published once room frees up", async () => {
  const pub = new PipelinedPublisher(nc, 1);
  const queue = new PublishAckQueue(pub);
  // The window is full.
  const first = pub.tryPublish("w.x", "x", "x-1");
  expect(first).toBeDefined();
  // The loop queued a decision and handled its message; its send waits for room.
  queue.push("w.a", "a", "a-1");
  let acks = 0;
  queue.handled({ ack: () => acks++ });
  const loopSend = queue.send();
  expect(loopSend).toBeDefined();
  // A flush starts meanwhile (the timer's); its send waits for room too.
  const flushed = queue.flush();
  // A promotion change publishes through the same publisher.
  let control: "waiting" | "stored" | "failed" = "waiting";
  const controlPublish = pub
    .publish("w.c", "c", "c-1")
    .then(({ acked }) => acked)
    .then((r) => (control = r.ok ? "stored" : "failed"));

  await flushed;
  await loopSend;
  expect(acks).toBe(1);
  // Nothing else is published from here on: the change must still go out and be stored.
  const outcome = await Promise.race([controlPublish, new Promise((r) => setTimeout(() => r("still waiting for room"), 5_000))]);
  expect({ outcome, pending: pub.pending }).toEqual({ outcome: "stored", pending: 0 });
  expect(control).toBe("stored");
  pub.close();
});
