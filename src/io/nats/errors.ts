import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { errors as natsErrors } from "@nats-io/transport-node";

export const PS_ERR_NATS = {
  ServerNotFound: "PS_ERR_NATS_SERVER_NOT_FOUND",
  ServerStart: "PS_ERR_NATS_SERVER_START",
  /** The server could not listen: its port is taken. */
  PortTaken: "PS_ERR_NATS_PORT_TAKEN",
  Connect: "PS_ERR_NATS_CONNECT",
  Provision: "PS_ERR_NATS_PROVISION",
  /** JetStream still did not answer when the start-up retries gave up (a server without -js). */
  JetStreamUnavailable: "PS_ERR_NATS_JETSTREAM_UNAVAILABLE",
  /** A publish no stream captures (the server answered 503 no responders). */
  PublishNoStream: "PS_ERR_NATS_PUBLISH_NO_STREAM",
  /** The stream refused the message (its limits, a wrong expected sequence, …); `cause` holds the API error. */
  PublishRefused: "PS_ERR_NATS_PUBLISH_REFUSED",
  /** No acknowledgement within the publisher's timeout. */
  PublishTimeout: "PS_ERR_NATS_PUBLISH_TIMEOUT",
  /** The publisher or the connection was closed first. */
  PublishClosed: "PS_ERR_NATS_PUBLISH_CLOSED",
  /** The connection was lost and made again before the server acknowledged it: it may or may not be stored. */
  PublishInterrupted: "PS_ERR_NATS_PUBLISH_INTERRUPTED",
  /** Anything else: the client threw, or the acknowledgement was unreadable. */
  PublishFailed: "PS_ERR_NATS_PUBLISH_FAILED",
} as const;
export type NatsErrorCode = (typeof PS_ERR_NATS)[keyof typeof PS_ERR_NATS];

export class NatsError extends Error {
  readonly code: NatsErrorCode;
  constructor(code: NatsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsError";
    this.code = code;
  }
}

/** Why one publish failed: each failed publish carries its own (a batch may fail for several reasons). */
export class PublishError extends NatsError {
  constructor(
    code: NatsErrorCode,
    message: string,
    readonly subject: string,
    readonly msgID: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = "PublishError";
  }
}

/** True for a JetStream API answer "no such stream/consumer" (by the server's error code). */
export function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound);
}

/** True when a KV update lost a compare-and-set: someone wrote the key since the revision we read. */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** A request that got no answer in time (nats.js throws TimeoutError, sometimes as a RequestError's cause). */
export function isTimeout(err: unknown): boolean {
  if (err instanceof natsErrors.TimeoutError) return true;
  return err instanceof natsErrors.RequestError && err.cause instanceof natsErrors.TimeoutError;
}

// nats-server's JetStream error codes (server/errors.json) for a cluster that is starting, electing a
// leader or short of peers: the same request succeeds a moment later.
const JS_CLUSTER_NOT_LEADER = 10009;
const JS_CLUSTER_NO_PEERS = 10005;
const JS_STREAM_OFFLINE = 10118;

/**
 * Errors a JetStream server or cluster answers while starting or electing leaders: worth retrying
 * shortly. Decided by error class and server code, never by message text.
 */
export function isTransientJetStreamError(err: unknown): boolean {
  // JetStreamNotEnabled (not exported by @nats-io/jetstream 3.4) is a plain Error subclass named so;
  // its class name is the only handle the package gives us, and no message text is read.
  if ((err instanceof Error && err.name === "JetStreamNotEnabled") || err instanceof natsErrors.NoRespondersError || isTimeout(err)) return true;
  if (err instanceof natsErrors.RequestError) return err.isNoResponders();
  if (err instanceof JetStreamApiError)
    return err.status === 503 || err.code === JS_CLUSTER_NOT_LEADER || err.code === JS_CLUSTER_NO_PEERS || err.code === JS_STREAM_OFFLINE;
  // Ours wrap the client's (provisioning, connecting): the cause decides.
  if (err instanceof NatsError && err.cause !== undefined) return isTransientJetStreamError(err.cause);
  return false;
}
