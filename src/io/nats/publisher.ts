import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Status, type Subscription } from "@nats-io/transport-node";
import { jetstream, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { PS_ERR_NATS, PublishError, type NatsErrorCode } from "./errors.ts";
import { FrameWriter, quickPubAck } from "./frames.ts";

/** How one publish ended: stored (perhaps as a duplicate of an earlier one with its msg id), or why not. */
export type Stored = { readonly ok: true; readonly duplicate: boolean } | { readonly ok: false; readonly error: PublishError };

// Shared: a success allocates nothing (thousands per second on the processor's hot path).
const STORED: Stored = Object.freeze({ ok: true, duplicate: false });
const STORED_DUPLICATE: Stored = Object.freeze({ ok: true, duplicate: true });

/** Told how a publish ended (tryPublishTo): the hot path's door, with no promise per publish. */
export interface PublishListener {
  onStored(r: Stored): void;
}

interface Waiting {
  to: PublishListener;
  deadlineMs: number;
  subject: string;
  msgID: string | undefined;
}

const decoder = new TextDecoder();

/**
 * JetStream publishes with a bounded number awaiting their ack. Publishing never serialises on acks
 * (issue #7: one awaited publish at a time gives ~12k msg/s, pipelined far more); when the bound is
 * reached, `publish` waits for the oldest to settle. Each publish hands back `acked`, which resolves
 * once the server stored it or it failed (error ack, no stream, no ack within
 * `timeoutMs`), so callers can retry exactly what failed, with the same msg id.
 * Each publish hands back a `Stored`: ok, or the `PublishError` of that very publish (its code and
 * cause), not the last error any publish saw.
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
 *
 * A reconnect fails every publish still waiting (PublishInterrupted): nats.js drops what it had not
 * written when the connection went, so their acks will not come, and waiting out the timeout held a
 * processor's recovery after a network partition for up to `timeoutMs` (issue 25). A publish the
 * server did store is stored once however often it is retried under its msg id.
 */
export class PipelinedPublisher {
  readonly js: JetStreamClient;
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** Writes msg-id'd publishes as frames, a turn's in one buffer (frames.ts); undefined: all through nc.publish. */
  private readonly frames: FrameWriter | undefined;
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
    opts: { frames?: boolean } = {},
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.frames = opts.frames === false ? undefined : FrameWriter.on(nc);
    this.inbox = createInbox();
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, m) => (err ? undefined : this.onReply(m)) });
    void this.watchReconnects();
  }

  private async watchReconnects(): Promise<void> {
    // (nats.js types status() as an AsyncIterable; it is a queued iterator that can be stopped.)
    const status = this.nc.status() as AsyncIterable<Status> & { stop?(): void };
    this.statusWatch = status;
    for await (const s of status) if (s.type === "reconnect") this.interrupted();
  }
  private statusWatch: { stop?(): void } | undefined;

  /** Fails every publish started before the connection was made again (their acks cannot come). */
  private interrupted(): void {
    for (const token of [...this.waiting.keys()]) this.fail(token, PS_ERR_NATS.PublishInterrupted, "connection lost before the publish was acknowledged");
  }

  /** Publishes started and not yet settled. */
  get pending(): number {
    return this.waiting.size;
  }

  /**
   * Starts a publish if the window has room; undefined when it is full. `data` may be the payload's
   * text (JSON): it is then encoded straight into the outgoing frame, with no buffer of its own.
   */
  tryPublish(subject: string, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): Promise<Stored> | undefined {
    if (this.waiting.size >= this.maxInFlight) return undefined;
    return new Promise<Stored>((settle) => this.tryPublishTo({ onStored: settle }, subject, data, msgID, hdrs));
  }

  /**
   * tryPublish, with how it ended told to `to` (its onStored is called once: perhaps before this
   * returns, for a publish the client refused at once); false when the window is full. The
   * publish-and-ack queue's door: a promise per publish (its executor, its resolving functions, then
   * a reaction in the flush's Promise.all) was about half of what the publish path allocated once its
   * frame was written without text (issue 24: ~2,070 → ~1,090 bytes a publish with the frames change,
   * in process; 4,930 → 4,777 bytes an event in the pipeline's drain for this part).
   */
  tryPublishTo(to: PublishListener, subject: string, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): boolean {
    if (this.waiting.size >= this.maxInFlight) return false;
    const token = ++this.nextToken;
    this.waiting.set(token, { to, deadlineMs: Date.now() + this.timeoutMs, subject, msgID });
    try {
      if (hdrs || !this.frames || !this.frames.add(subject, this.inbox, token, msgID, data)) this.publishByClient(subject, token, data, msgID, hdrs);
    } catch (err) {
      this.fail(token, PS_ERR_NATS.PublishFailed, `publish failed: ${(err as Error).message}`, err);
      return true;
    }
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(1_000, this.timeoutMs / 4)).unref();
    return true;
  }

  /** Through nats.js's publish (headers beyond the msg id, or no frame writer): after the frames already built, so the order holds. */
  private publishByClient(subject: string, token: number, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): void {
    this.frames?.send();
    let h: MsgHdrs | undefined;
    if (msgID || hdrs) {
      h = headers();
      if (msgID) h.set("Nats-Msg-Id", msgID);
      if (hdrs) for (const k in hdrs) h.set(k, hdrs[k]!);
    }
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    this.nc.publish(subject, bytes, h ? { reply: `${this.inbox}.${token}`, headers: h } : { reply: `${this.inbox}.${token}` });
  }

  /** Resolves once the window has room (at once when it has). */
  room(): Promise<void> {
    if (this.waiting.size < this.maxInFlight) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  async publish(subject: string, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): Promise<{ acked: Promise<Stored> }> {
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
    this.statusWatch?.stop?.();
    this.sub.unsubscribe();
    for (const token of [...this.waiting.keys()]) this.fail(token, PS_ERR_NATS.PublishClosed, "publisher closed");
  }

  private onReply(m: Msg): void {
    const token = Number(m.subject.slice(this.inbox.length + 1));
    if (!this.waiting.has(token)) return; // timed out already: counted as failed and retried
    if (m.data.length === 0 && m.headers?.code === 503) return this.fail(token, PS_ERR_NATS.PublishNoStream, "no stream captures the subject (503 no responders)");
    const quick = quickPubAck(m.data);
    if (quick) return this.settle(token, quick === "duplicate" ? STORED_DUPLICATE : STORED);
    let ack: { stream?: string; duplicate?: boolean; error?: { code: number; err_code?: number; description: string } };
    try {
      ack = JSON.parse(decoder.decode(m.data)) as typeof ack;
    } catch (err) {
      return this.fail(token, PS_ERR_NATS.PublishFailed, `unreadable publish ack: ${(err as Error).message}`, err);
    }
    if (ack.error) {
      const cause = new JetStreamApiError({ code: ack.error.code, err_code: ack.error.err_code ?? 0, description: ack.error.description ?? "unknown" });
      return this.fail(token, PS_ERR_NATS.PublishRefused, `publish refused: ${ack.error.description ?? "unknown"} (code ${ack.error.code}, err_code ${ack.error.err_code})`, cause);
    }
    if (!ack.stream) return this.fail(token, PS_ERR_NATS.PublishFailed, "invalid publish ack");
    this.settle(token, ack.duplicate === true ? STORED_DUPLICATE : STORED);
  }

  private fail(token: number, code: NatsErrorCode, message: string, cause?: unknown): void {
    const w = this.waiting.get(token);
    if (!w) return;
    const error = new PublishError(code, message, w.subject, w.msgID, cause === undefined ? undefined : { cause });
    this.settle(token, { ok: false, error });
  }

  private settle(token: number, r: Stored): void {
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    if (!r.ok) {
      this.failures++;
      this.lastError = r.error;
    } else {
      this.published++;
      if (r.duplicate) this.duplicates++;
    }
    w.to.onStored(r);
    // Every waiter looks again (those that find it full wait again): one woken for this slot may have
    // nothing left to publish (a queue's send whose queue another send emptied), and the slot must
    // not be lost to the waiters behind it; no publish in flight would ever wake them.
    if (this.roomWaiters.length > 0) {
      const rooms = this.roomWaiters;
      this.roomWaiters = [];
      for (const room of rooms) room();
    }
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
      this.fail(token, PS_ERR_NATS.PublishTimeout, `no publish ack within ${this.timeoutMs} ms`);
    }
  }
}
