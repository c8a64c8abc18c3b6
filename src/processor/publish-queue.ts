// The publish-and-ack queue (Kafka Streams' RecordCollector): what the engine decided goes out in the
// order it was decided, many publishes in flight, and a consumed message is acknowledged only once
// every publish decided up to it is stored. STYLE.md rule 7, and the processor's whole promise: a
// crash may repeat a publish (same msg id, dropped by the stream) but never lose one.
import { retryWithBackoff, SHORT_BACKOFF, type BackoffPolicy, type PublishError, type PublishListener, type Stored } from "../io/nats/index.ts";
import { PublishesFailedError } from "./errors.ts";

/** A flush waiting for the publishes of its batch not yet settled. */
interface BatchWait {
  pending: number;
  done: () => void;
}

/**
 * A publish pushed: what to publish, then how its latest attempt ended. It is its own listener: the
 * publisher tells it, and it tells the flush waiting for it, with no promise per publish (issue 24).
 */
export class QueuedPublish implements PublishListener {
  /** How the latest attempt ended; undefined while not handed to the publisher or not settled. */
  result: Stored | undefined = undefined;
  /** The flush waiting for it to settle. */
  wait: BatchWait | undefined = undefined;
  constructor(
    readonly subject: string,
    /** The payload, or its JSON text (encoded straight into the publisher's frame: no buffer of its own). */
    readonly data: Uint8Array | string,
    readonly msgID: string | undefined,
    readonly hdrs: Record<string, string> | undefined,
  ) {}

  onStored(r: Stored): void {
    this.result = r;
    const w = this.wait;
    if (w === undefined) return;
    this.wait = undefined;
    if (--w.pending === 0) w.done();
  }
}

/** What the queue needs of a publisher: PipelinedPublisher, or a fake in unit tests. */
export interface WindowedPublisher {
  /** Starts a publish when the window has room, to tell `to` how it ended; false when the window is full. */
  tryPublishTo(to: PublishListener, subject: string, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): boolean;
  /** Resolves once the window has room. */
  room(): Promise<void>;
}

/** A consumed message (AckPolicy.All: acknowledging one acknowledges all before it). */
export interface Ackable {
  ack(): void;
}

export interface PublishAckQueueOptions {
  /** Waits between rounds of republishing what failed. */
  retryPolicy?: BackoffPolicy;
  /** Once stopping, rounds of retries before a flush gives up and throws (default 10). */
  attemptsWhenStopping?: number;
  /** Told of every round that still had failures. */
  onRetry?: (failures: readonly PublishError[], attempt: number) => void;
  /** Told when a flush that had to retry got everything stored after all. */
  onRecovered?: () => void;
  /**
   * Asked just before a flush acknowledges: false holds the acknowledgement back (the newest message
   * stays owed; a later flush acknowledges it, or a newer one). Partitioned, whether the partition's
   * lease is still good by this instance's clock: an instance paused past its lease whose flush
   * completes on waking would otherwise acknowledge on the consumer the new owner made under the same
   * name, and nats-server 2.9.10 takes an AckAll above its ack floor whatever it delivered (consumer.go,
   * processAckMsg): the floor jumps past events the new owner has not handled, whose restart would then
   * take them as stored and skip their publishes.
   */
  mayAck?: () => boolean;
}

export class PublishAckQueue {
  /** Pushed since the last flush began: what the next flush must see stored before it acks. */
  private unacked: QueuedPublish[] = [];
  /** Pushed and not yet handed to the publisher. */
  private queued: QueuedPublish[] = [];
  /** The newest message handled (its publishes, if any, are pushed). */
  private lastMsg: Ackable | undefined;
  private flushing: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;
  /** Messages handled since the last flush began. */
  handledSinceFlush = 0;
  /** Flushes that stored their batch but held its acknowledgement back (`mayAck` said no). */
  acksHeld = 0;
  /** Set when shutting down: a flush then gives up after `attemptsWhenStopping` rounds. */
  stopping = false;
  /**
   * Why a flush gave up (only while stopping): from then on every flush fails with it and nothing is
   * acknowledged. A later flush with nothing new to publish would otherwise acknowledge the newest
   * message, and under AckPolicy.All every message before it, whose publishes were never stored.
   */
  private failedWith: Error | undefined;

  constructor(
    private readonly publisher: WindowedPublisher,
    private readonly opts: PublishAckQueueOptions = {},
  ) {}

  /** Queues a publish; it belongs to the next flush. */
  push(subject: string, data: Uint8Array | string, msgID?: string, hdrs?: Record<string, string>): void {
    const p = new QueuedPublish(subject, data, msgID, hdrs);
    this.unacked.push(p);
    this.queued.push(p);
  }

  /** A consumed message is done: everything it produced is pushed. The next flush acknowledges it. */
  handled(m: Ackable): void {
    this.lastMsg = m;
    this.handledSinceFlush++;
  }

  /** Publishes pushed and not yet handed to the publisher. */
  get waiting(): number {
    return this.queued.length;
  }

  get isFlushing(): boolean {
    return this.flushing !== undefined;
  }

  /**
   * Hands the queued publishes to the publisher, in order. Undefined when all went out; otherwise the
   * window is full and the promise resolves once the rest did. Synchronous up to the first full
   * window, so a hot loop pays no promise hop per message; callers that run at the same time (the
   * loop and a flush) both take from the head, so the order holds.
   */
  send(): Promise<void> | undefined {
    const q = this.queued;
    let i = 0;
    for (; i < q.length; i++) {
      const u = q[i]!;
      if (!this.publisher.tryPublishTo(u, u.subject, u.data, u.msgID, u.hdrs)) break;
    }
    if (i === q.length) {
      q.length = 0;
      return undefined;
    }
    q.splice(0, i);
    return this.publisher.room().then(() => this.send());
  }

  /**
   * Resolves once every publish pushed before the call is stored and the newest message handled
   * before it is acknowledged. A flush under way covers only what was handled before it began, so a
   * caller (a checkpoint above all) gets one more after it, shared by everyone who asks meanwhile.
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.doFlush().finally(() => (this.flushing = undefined));
      return this.flushing;
    }
    this.nextFlush ??= this.flushing
      .catch(() => undefined)
      .then(() => {
        this.nextFlush = undefined;
        return this.flush();
      });
    return this.nextFlush;
  }

  /** Why a flush gave up, if one did (the queue acknowledges nothing since). */
  get failure(): Error | undefined {
    return this.failedWith;
  }

  private async doFlush(): Promise<void> {
    if (this.failedWith) throw this.failedWith;
    const last = this.lastMsg;
    let batch = this.unacked;
    if (!last && batch.length === 0) return;
    this.unacked = [];
    this.handledSinceFlush = 0;
    // Everything in the batch must have gone out before its results are awaited.
    const sending = this.send();
    if (sending) await sending;
    const giveUpAfter = this.opts.attemptsWhenStopping ?? 10;
    let retried = false;
    try {
      await retryWithBackoff(
        async (attempt) => {
          // A retry republishes what failed, in its order, with its msg id: the stream drops a copy
          // of one that was stored after all (its ack was what got lost).
          if (attempt > 0) for (const u of batch) await this.publishNow(u);
          await settled(batch);
          const failures: PublishError[] = [];
          batch = batch.filter((u) => {
            const r = u.result!;
            if (!r.ok) failures.push(r.error);
            return !r.ok;
          });
          if (failures.length) throw new PublishesFailedError(failures);
        },
        {
          policy: this.opts.retryPolicy ?? SHORT_BACKOFF,
          retry: (_err, attempt) => !(this.stopping && attempt + 1 >= giveUpAfter),
          onRetry: (err, attempt) => {
            retried = true;
            this.opts.onRetry?.(err instanceof PublishesFailedError ? err.failures : [], attempt);
          },
        },
      );
    } catch (err) {
      // What was not stored stays owed (in front of what came since); nothing is acknowledged any more.
      this.unacked = [...batch, ...this.unacked];
      this.failedWith = err as Error;
      throw err;
    }
    if (retried) this.opts.onRecovered?.();
    if (last && this.opts.mayAck && !this.opts.mayAck()) {
      this.acksHeld++;
      return;
    }
    if (last && last === this.lastMsg) this.lastMsg = undefined;
    last?.ack();
  }

  /** Starts one publish again, waiting for room if the window is full (not for its ack). */
  private async publishNow(u: QueuedPublish): Promise<void> {
    u.result = undefined;
    for (;;) {
      if (this.publisher.tryPublishTo(u, u.subject, u.data, u.msgID, u.hdrs)) return;
      await this.publisher.room();
    }
  }
}

/** Resolves once every publish of the batch (each handed to the publisher) has settled. */
function settled(batch: readonly QueuedPublish[]): Promise<void> | undefined {
  let pending = 0;
  for (const u of batch) if (u.result === undefined) pending++;
  if (pending === 0) return undefined;
  return new Promise((done) => {
    const w: BatchWait = { pending, done };
    for (const u of batch) if (u.result === undefined) u.wait = w;
  });
}
