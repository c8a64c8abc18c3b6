// The consumer positioner (Kafka Streams' seek after restore): points the processor's durable consumer
// just after the stream sequence its restored state reflects, so the events since are replayed through
// the same engine, and tells which of them were acknowledged before the restart. The processor also
// uses it mid-run, at the first event it has not handled, when deliveries failed to reach it (issue 25).
import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { isNotFound } from "../io/nats/index.ts";
import { ProcessorError, PS_ERR_PROCESSOR } from "./errors.ts";

export interface PositionRequest {
  stream: string;
  durable: string;
  /** The first stream sequence to deliver. */
  startSeq: number;
  /** `events.>` for the whole stream, `events.*.<n>` for one partition. */
  filter: string;
  /** True for one partition's consumer (its filter always applies). */
  partitioned: boolean;
  ackWaitMs: number;
  maxAckPending: number;
}

export interface Position {
  /**
   * The previous consumer's ack floor: events up to it were handled and their publishes stored before
   * the restart, so replaying them must not publish again (0 when there was no consumer).
   */
  ackFloor: number;
}

/**
 * Recreates the durable consumer at `startSeq` (a consumer's start cannot be moved in place).
 * `keep` is given the old consumer's ack floor before the consumer is deleted, and must have kept it
 * where a later start finds it (the new consumer starts with none): it throws otherwise, and the
 * consumer stays. With `ifAbsent` (the consumer was found missing) an existing consumer is left alone and
 * a ProcessorError (ConsumerTaken) thrown instead.
 */
export async function positionConsumer(jsm: JetStreamManager, r: PositionRequest, keep?: (ackFloor: number) => Promise<void>, opts: { ifAbsent?: boolean } = {}): Promise<Position> {
  let ackFloor = 0;
  const notFound = (err: unknown) => {
    if (!isNotFound(err)) throw err;
    return undefined;
  };
  const ci = await jsm.consumers.info(r.stream, r.durable).catch(notFound);
  // Making again a consumer found missing: one that is there now is someone else's, not to be deleted.
  if (ci && opts.ifAbsent)
    throw new ProcessorError(PS_ERR_PROCESSOR.ConsumerTaken, `consumer ${r.durable} on ${r.stream} exists again, made by someone else (another processor with processor.durable '${r.durable}'?)`);
  if (ci) {
    ackFloor = ci.ack_floor.stream_seq;
    // Outside the not-found handling: a floor that could not be kept must stop the delete, whatever the error.
    await keep?.(ackFloor);
    await jsm.consumers.delete(r.stream, r.durable).catch(notFound);
  }
  // No filter when EVENTS holds nothing but events (provisioned so): it would select everything
  // anyway, and nats-server 2.9.10 makes a filtered pull consumer that falls behind its stream
  // recount the pending messages by scanning the stream's blocks for every message it delivers
  // (stack: loopAndGatherMsgs → numPending → FilteredState). Measured with bench/ (issue #7):
  // the pipeline drained 900 events/s with `events.>` as filter and 11,900 without, same input.
  let filter: string | undefined = r.filter;
  if (!r.partitioned) {
    const si = await jsm.streams.info(r.stream);
    if (si.config.subjects?.length === 1 && si.config.subjects[0] === r.filter) filter = undefined;
  }
  await jsm.consumers.add(r.stream, {
    durable_name: r.durable,
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: r.startSeq,
    ...(filter !== undefined ? { filter_subject: filter } : {}),
    ack_wait: nanos(r.ackWaitMs),
    max_ack_pending: r.maxAckPending,
    max_deliver: -1,
  });
  return { ackFloor };
}
