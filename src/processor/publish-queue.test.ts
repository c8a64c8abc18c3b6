// The publish-and-ack queue against a fake publisher that settles each publish when the test says so:
// an ack never goes out before every publish of its batch is stored; retries republish exactly what
// failed, in order, with its msg id; a full window holds the queue back; one failure holds the batch.
import { describe, expect, it } from "vitest";
import { PS_ERR_NATS, PublishError, type NatsErrorCode, type PublishListener, type Stored } from "../io/nats/index.ts";
import { PublishesFailedError } from "./errors.ts";
import { PublishAckQueue, type Ackable, type WindowedPublisher } from "./publish-queue.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Call {
  subject: string;
  msgID: string | undefined;
  data: string;
  settle: (r: Stored) => void;
  settled: boolean;
}

/** A publisher with a window; nothing is stored until the test settles it. */
class FakePublisher implements WindowedPublisher {
  readonly calls: Call[] = [];
  private roomWaiters: (() => void)[] = [];
  constructor(private readonly window = Infinity) {}

  get inFlight(): number {
    return this.calls.filter((c) => !c.settled).length;
  }

  tryPublishTo(to: PublishListener, subject: string, data: Uint8Array | string, msgID?: string): boolean {
    if (this.inFlight >= this.window) return false;
    const call: Call = { subject, msgID, data: typeof data === "string" ? data : dec.decode(data), settled: false, settle: () => undefined };
    call.settle = (r) => {
      if (call.settled) return;
      call.settled = true;
      to.onStored(r);
      this.roomWaiters.shift()?.();
    };
    this.calls.push(call);
    return true;
  }

  room(): Promise<void> {
    if (this.inFlight < this.window) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  store(i: number): void {
    this.calls[i]!.settle({ ok: true, duplicate: false });
  }
  fail(i: number, code: NatsErrorCode = PS_ERR_NATS.PublishTimeout): void {
    const c = this.calls[i]!;
    c.settle({ ok: false, error: new PublishError(code, `${code} for ${c.msgID}`, c.subject, c.msgID) });
  }
  storeAllOpen(): void {
    for (let i = 0; i < this.calls.length; i++) if (!this.calls[i]!.settled) this.store(i);
  }
  ids(): (string | undefined)[] {
    return this.calls.map((c) => c.msgID);
  }
}

class Msg implements Ackable {
  acks = 0;
  constructor(readonly seq: number) {}
  ack(): void {
    this.acks++;
  }
}

/** Lets what is queued run: chains of awaits, and the zero-delay timer of a retry round. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

const pub = (q: PublishAckQueue, id: string, subject = "decisions.web") => q.push(subject, enc.encode(`payload ${id}`), id);
/** Retries without waiting: the order and content of calls are what is tested, not delays. */
const noWait = { retryPolicy: [0] };

describe("PublishAckQueue", () => {
  it("acknowledges a message only after every publish of its batch is stored", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const m = new Msg(3);
    pub(q, "d-1");
    pub(q, "d-2");
    pub(q, "d-3");
    q.handled(m);
    let done = false;
    const flushed = q.flush().then(() => (done = true));
    await settle();
    expect(fake.ids()).toEqual(["d-1", "d-2", "d-3"]);
    fake.store(0);
    fake.store(2);
    await settle();
    expect(m.acks).toBe(0);
    expect(done).toBe(false);
    fake.store(1);
    await flushed;
    expect(m.acks).toBe(1);
  });

  it("holds the ack back when mayAck says no at the moment of acknowledging (a lease lost while the batch was stored), and acks at a later flush", async () => {
    const fake = new FakePublisher();
    let held = true;
    const q = new PublishAckQueue(fake, { ...noWait, mayAck: () => held });
    const m = new Msg(3);
    pub(q, "d-1");
    q.handled(m);
    const flushed = q.flush();
    await settle();
    // Paused past the lease while the publish was in flight: on waking the lease is not good any more.
    held = false;
    fake.store(0);
    await flushed;
    expect(m.acks).toBe(0);
    expect(q.acksHeld).toBe(1);
    // Still not good: a flush with nothing new holds the same message back.
    await q.flush();
    expect(m.acks).toBe(0);
    // Renewed after all: the next flush acknowledges what was owed.
    held = true;
    await q.flush();
    expect(m.acks).toBe(1);
    // And a newer message, once its batch is stored.
    const m2 = new Msg(4);
    pub(q, "d-2");
    q.handled(m2);
    const again = q.flush();
    await settle();
    fake.store(1);
    await again;
    expect([m.acks, m2.acks]).toEqual([1, 1]);
  });

  it("holds the ack for an outcome the message closed as for its decision, and retries it under its own msg id", async () => {
    // A purchase that is also a decision point: its decision and the outcome it closed, in one batch.
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const m = new Msg(5);
    pub(q, "d-e5", "decisions.web");
    pub(q, "o-d-e2", "outcomes.email");
    q.handled(m);
    const flushed = q.flush();
    await settle();
    fake.store(0);
    fake.fail(1);
    await settle();
    expect(m.acks).toBe(0);
    expect(fake.calls.map((c) => [c.subject, c.msgID])).toEqual([
      ["decisions.web", "d-e5"],
      ["outcomes.email", "o-d-e2"],
      ["outcomes.email", "o-d-e2"],
    ]);
    fake.store(2);
    await flushed;
    expect(m.acks).toBe(1);
  });

  it("acknowledges a message that produced no publish at the next flush", async () => {
    const q = new PublishAckQueue(new FakePublisher(), noWait);
    const m = new Msg(1);
    q.handled(m);
    await q.flush();
    expect(m.acks).toBe(1);
    await q.flush();
    expect(m.acks).toBe(1); // not again
  });

  it("republishes only what failed, with the same msg id, subject and payload, and acks after", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const m = new Msg(7);
    pub(q, "d-1");
    pub(q, "d-2", "deadletter.events");
    pub(q, "d-3");
    q.handled(m);
    const flushed = q.flush();
    await settle();
    fake.store(0);
    fake.fail(1);
    fake.store(2);
    await settle();
    expect(m.acks).toBe(0);
    expect(fake.calls).toHaveLength(4);
    const retry = fake.calls[3]!;
    expect([retry.msgID, retry.subject, retry.data]).toEqual(["d-2", "deadletter.events", "payload d-2"]);
    fake.store(3);
    await flushed;
    expect(m.acks).toBe(1);
  });

  it("keeps the order: first sends and each round of retries go out in the order they were decided", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const ids = Array.from({ length: 8 }, (_, i) => `d-${i}`);
    for (const id of ids) pub(q, id);
    q.handled(new Msg(1));
    const flushed = q.flush();
    await settle();
    expect(fake.ids()).toEqual(ids);
    // The 2nd, 5th and 7th fail, in an order of their own.
    for (const i of [6, 1, 4]) fake.fail(i);
    for (const i of [0, 2, 3, 5, 7]) fake.store(i);
    await settle();
    expect(fake.ids().slice(8)).toEqual(["d-1", "d-4", "d-6"]);
    fake.storeAllOpen();
    await flushed;
  });

  it("holds back when the publisher's window is full, then sends the rest in order", async () => {
    const fake = new FakePublisher(2);
    const q = new PublishAckQueue(fake, noWait);
    for (let i = 0; i < 5; i++) pub(q, `d-${i}`);
    const sending = q.send();
    expect(sending).toBeInstanceOf(Promise);
    expect(fake.ids()).toEqual(["d-0", "d-1"]);
    expect(q.waiting).toBe(3);
    fake.store(0);
    await settle();
    expect(fake.ids()).toEqual(["d-0", "d-1", "d-2"]);
    fake.store(1);
    fake.store(2);
    await settle();
    fake.store(3);
    await sending;
    expect(fake.ids()).toEqual(["d-0", "d-1", "d-2", "d-3", "d-4"]);
    expect(q.waiting).toBe(0);
    // With room, a send is synchronous and hands back nothing to await.
    fake.storeAllOpen();
    pub(q, "d-5");
    expect(q.send()).toBeUndefined();
  });

  it("one failing publish holds the ack of the whole batch, and of later batches, until it is stored", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const m1 = new Msg(1);
    const m2 = new Msg(2);
    pub(q, "d-1");
    pub(q, "d-2");
    q.handled(m1);
    const first = q.flush();
    await settle();
    fake.store(0);
    fake.fail(1);
    await settle();
    // A later batch is sent (the loop sends as it goes) and stored at once, but its flush waits
    // behind the first.
    pub(q, "d-3");
    q.handled(m2);
    expect(q.send()).toBeUndefined();
    const second = q.flush();
    await settle();
    for (let i = 0; i < fake.calls.length; i++) if (fake.calls[i]!.msgID === "d-3") fake.store(i);
    await settle();
    expect([m1.acks, m2.acks]).toEqual([0, 0]);
    fake.fail(fake.ids().lastIndexOf("d-2")); // the retry of d-2 fails again
    await settle();
    expect(fake.ids().filter((id) => id === "d-2")).toHaveLength(3);
    expect([m1.acks, m2.acks]).toEqual([0, 0]);
    fake.storeAllOpen();
    await first;
    expect(m1.acks).toBe(1);
    await second;
    expect(m2.acks).toBe(1);
  });

  it("while stopping, gives up after its attempts, acks nothing, and keeps each failure's own cause", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, { retryPolicy: [0], attemptsWhenStopping: 3 });
    q.stopping = true;
    const m = new Msg(9);
    pub(q, "d-1");
    pub(q, "d-2", "deadletter.events");
    pub(q, "d-3");
    q.handled(m);
    const flushed = q.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    // Every round: d-1 times out, d-2 has no stream, d-3 is stored the first time.
    for (let round = 0; round < 3; round++) {
      await settle();
      for (let i = 0; i < fake.calls.length; i++) {
        const c = fake.calls[i]!;
        if (c.settled) continue;
        if (c.msgID === "d-1") fake.fail(i, PS_ERR_NATS.PublishTimeout);
        else if (c.msgID === "d-2") fake.fail(i, PS_ERR_NATS.PublishNoStream);
        else fake.store(i);
      }
    }
    const err = await flushed;
    expect(err).toBeInstanceOf(PublishesFailedError);
    const failures = (err as PublishesFailedError).failures;
    expect(failures.map((f) => [f.msgID, f.code])).toEqual([
      ["d-1", PS_ERR_NATS.PublishTimeout],
      ["d-2", PS_ERR_NATS.PublishNoStream],
    ]);
    expect(m.acks).toBe(0);
    expect(fake.ids().filter((id) => id === "d-3")).toHaveLength(1);
    // A later flush (the final checkpoint's) has nothing new to publish: it must not acknowledge the
    // message, which under AckPolicy.All would acknowledge d-1's and d-2's events, never stored.
    const later = new Msg(10);
    q.handled(later);
    await expect(q.flush()).rejects.toBe(err);
    expect([m.acks, later.acks]).toEqual([0, 0]);
    expect(q.failure).toBe(err);
  });

  it("a flush asked for while one is under way covers everything handled up to the ask", async () => {
    const fake = new FakePublisher();
    const q = new PublishAckQueue(fake, noWait);
    const m1 = new Msg(1);
    const m2 = new Msg(2);
    pub(q, "d-1");
    q.handled(m1);
    const first = q.flush();
    pub(q, "d-2");
    q.handled(m2);
    const second = q.flush();
    const third = q.flush();
    expect(third).toBe(second); // shared by everyone who asks meanwhile
    await settle();
    fake.storeAllOpen();
    await first;
    expect([m1.acks, m2.acks]).toEqual([1, 0]);
    await settle();
    fake.storeAllOpen();
    await second;
    expect(m2.acks).toBe(1);
  });
});
