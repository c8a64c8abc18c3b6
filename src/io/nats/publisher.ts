import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";

interface Waiting {
  settle: (ok: boolean) => void;
  deadlineMs: number;
}

const decoder = new TextDecoder();

/**
 * JetStream publishes with a bounded number awaiting their ack. Publishing never serialises on acks
 * (issue #7: one awaited publish at a time gives ~12k msg/s, pipelined far more); when the bound is
 * reached, `publish` waits for the oldest to settle. Each publish hands back `acked`, which resolves
 * true once the server stored it and false if it failed (error ack, no stream, no ack within
 * `timeoutMs`), so callers can retry exactly what failed, with the same msg id.
 *
 * `tryPublish` is the synchronous door for hot loops: it starts the publish when the window has room
 * and returns undefined when it is full (then wait for `room()`), so a caller pays no promise hop per
 * message.
 *
 * Hand-written on the JetStream publish protocol (a core publish with a reply subject; the stream
 * answers with a PubAck JSON) instead of `js.publish`: in the processor's profile (bench/, issue #7)
 * js.publish cost 8% of the CPU, mostly per-request machinery we do not need when thousands are in
 * flight: a timer and a Promise.race per request, and an Error (with its stack) built for every
 * successful request by nats.js's RequestOne.cancel. Here one inbox subscription takes every ack, a
 * map finds the publish by token, and one sweep timer fails those past their deadline.
 */
export class PipelinedPublisher {
  readonly js: JetStreamClient;
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly waiting = new Map<number, Waiting>();
  private nextToken = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  published = 0;
  duplicates = 0;
  failures = 0;
  lastError: Error | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly maxInFlight: number,
    readonly timeoutMs = 10_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.inbox = createInbox();
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, m) => (err ? undefined : this.onReply(m)) });
  }

  /** Publishes started and not yet settled. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Starts a publish if the window has room; undefined when it is full. */
  tryPublish(subject: string, data: Uint8Array, msgID?: string, hdrs?: Record<string, string>): Promise<boolean> | undefined {
    if (this.waiting.size >= this.maxInFlight) return undefined;
    let h: MsgHdrs | undefined;
    if (msgID || hdrs) {
      h = headers();
      if (msgID) h.set("Nats-Msg-Id", msgID);
      if (hdrs) for (const k in hdrs) h.set(k, hdrs[k]!);
    }
    const token = ++this.nextToken;
    const acked = new Promise<boolean>((settle) => this.waiting.set(token, { settle, deadlineMs: Date.now() + this.timeoutMs }));
    try {
      this.nc.publish(subject, data, h ? { reply: `${this.inbox}.${token}`, headers: h } : { reply: `${this.inbox}.${token}` });
    } catch (err) {
      this.settle(token, err as Error);
      return acked;
    }
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(1_000, this.timeoutMs / 4)).unref();
    return acked;
  }

  /** Resolves once the window has room (at once when it has). */
  room(): Promise<void> {
    if (this.waiting.size < this.maxInFlight) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  async publish(subject: string, data: Uint8Array, msgID?: string, hdrs?: Record<string, string>): Promise<{ acked: Promise<boolean> }> {
    for (;;) {
      const acked = this.tryPublish(subject, data, msgID, hdrs);
      if (acked) return { acked };
      await this.room();
    }
  }

  /** Waits until every publish started so far has settled; true when all were stored. */
  async flush(): Promise<boolean> {
    const failuresBefore = this.failures;
    while (this.waiting.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    return this.failures === failuresBefore;
  }

  /** Stops taking acks; publishes still in flight settle as failed. */
  close(): void {
    this.sub.unsubscribe();
    for (const token of [...this.waiting.keys()]) this.settle(token, new Error("publisher closed"));
  }

  private onReply(m: Msg): void {
    const token = Number(m.subject.slice(this.inbox.length + 1));
    if (!this.waiting.has(token)) return; // timed out already: counted as failed and retried
    if (m.data.length === 0 && m.headers?.code === 503) return this.settle(token, new Error(`no stream captures the subject (503 no responders)`));
    let ack: { stream?: string; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      ack = JSON.parse(decoder.decode(m.data)) as typeof ack;
    } catch (err) {
      return this.settle(token, new Error(`unreadable publish ack: ${(err as Error).message}`));
    }
    if (ack.error) return this.settle(token, new Error(`publish refused: ${ack.error.description ?? "unknown"} (code ${ack.error.code}, err_code ${ack.error.err_code})`));
    if (!ack.stream) return this.settle(token, new Error("invalid publish ack"));
    this.settle(token, undefined, ack.duplicate === true);
  }

  private settle(token: number, err: Error | undefined, duplicate = false): void {
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    if (err) {
      this.failures++;
      this.lastError = err;
    } else {
      this.published++;
      if (duplicate) this.duplicates++;
    }
    w.settle(!err);
    const room = this.roomWaiters.shift();
    if (room) room();
    if (this.waiting.size === 0) {
      if (this.sweeper) clearInterval(this.sweeper);
      this.sweeper = undefined;
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of idle) r();
    }
  }

  /** Fails publishes past their deadline. The map holds them in start order: stop at the first one in time. */
  private sweep(): void {
    const now = Date.now();
    for (const [token, w] of this.waiting) {
      if (w.deadlineMs > now) break;
      this.settle(token, new Error(`no publish ack within ${this.timeoutMs} ms`));
    }
  }
}
