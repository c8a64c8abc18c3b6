// What the processor reads of a JetStream delivery's reply subject: its stream sequence and its
// delivery (consumer) sequence.
import type { JsMsg } from "@nats-io/jetstream";

/** Where a delivery sits: in the stream, and in the consumer's deliveries. */
export interface Delivery {
  /** The message's sequence in the stream. */
  streamSeq: number;
  /**
   * The consumer's delivery sequence: nats-server counts every message it hands to any pull request
   * of the consumer, redeliveries included, 1, 2, 3, … from the consumer's creation. A jump means
   * deliveries were made that never reached us (a connection closed under them, issue 25).
   */
  deliverySeq: number;
}

/**
 * Reads a delivery's sequences from its reply (ack) subject, as `m.info` does:
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<delivery seq>.<time>.<pending>          (9 tokens)
 *   $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.<delivery seq>.<…> (11 or more)
 * into `out` (reused: nothing is allocated per message). `m.info` splits the whole subject into
 * strings and parses five numbers into a delivery-info object for every message, and the processor
 * reads only these two (issue #16: `parseInfo` was ~5% of the processor's CPU in the pipeline's
 * profile). Anything else is left to `m.info` (which throws for a message that is not a JetStream
 * delivery).
 */
export function readDelivery(m: JsMsg, out: Delivery): Delivery {
  // nats.js keeps the reply subject's bytes as they came (JsMsgImpl.msg._msg.reply) and makes its text
  // only when asked: read from the bytes, a delivery costs no string (~90 bytes an event, issue 24).
  const raw = (m as JsMsg & { msg?: { _msg?: { reply?: unknown } } }).msg?._msg?.reply;
  if (raw instanceof Uint8Array) {
    if (startsWithAck(raw) && parseAck(raw, out)) return out;
  } else {
    // Another JsMsg (a test's): its reply subject as text.
    const r = (m as JsMsg & { reply?: unknown }).reply;
    if (typeof r === "string" && r.startsWith("$JS.ACK.") && parseAck(Buffer.from(r), out)) return out;
  }
  const info = m.info;
  out.streamSeq = info.streamSequence;
  out.deliverySeq = info.deliverySequence;
  return out;
}

const ACK_PREFIX = Buffer.from("$JS.ACK.");

function startsWithAck(r: Uint8Array): boolean {
  if (r.length < ACK_PREFIX.length) return false;
  for (let i = 0; i < ACK_PREFIX.length; i++) if (r[i] !== ACK_PREFIX[i]) return false;
  return true;
}

/** A delivery's payload: bytes [start, end) of `bytes`. */
export interface Payload {
  bytes: Uint8Array;
  start: number;
  end: number;
}

/**
 * `m.data` without a view of its own: nats.js keeps a message's headers and payload in one buffer
 * (MsgImpl._rdata, the payload from _msg.hdr on) and makes a new Buffer view of the payload at each
 * `data` (~90 bytes an event, issue 24). Into `out` (reused); m.data itself for any other JsMsg.
 */
export function readPayload(m: JsMsg, out: Payload): Payload {
  const msg = (m as JsMsg & { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const raw = msg?._rdata;
  const hdr = msg?._msg?.hdr;
  if (raw instanceof Uint8Array && typeof hdr === "number" && hdr <= raw.byteLength) {
    out.bytes = raw;
    out.start = hdr > -1 ? hdr : 0;
    out.end = raw.byteLength;
    return out;
  }
  const data = m.data;
  out.bytes = data;
  out.start = 0;
  out.end = data.byteLength;
  return out;
}

/** The stream sequence alone (tests, tools). */
export function streamSeqOf(m: JsMsg): number {
  return readDelivery(m, { streamSeq: 0, deliverySeq: 0 }).streamSeq;
}

function parseAck(r: Uint8Array, out: Delivery): boolean {
  let dots = 0;
  for (let i = 0; i < r.length; i++) if (r[i] === 46) dots++;
  const tokens = dots + 1;
  const want = tokens === 9 ? 5 : tokens >= 11 ? 7 : -1;
  if (want < 0) return false;
  // Skip to the stream sequence: after the want-th dot; the delivery sequence is the token after it.
  let i = 0;
  for (let d = 0; d < want; i++) if (r[i] === 46) d++;
  let stream = 0;
  let digits = 0;
  for (; i < r.length; i++) {
    const c = r[i]!;
    if (c === 46) break;
    if (c < 48 || c > 57) return false;
    stream = stream * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 15) return false;
  let delivery = 0;
  digits = 0;
  for (i++; i < r.length; i++) {
    const c = r[i]!;
    if (c === 46) break;
    if (c < 48 || c > 57) return false;
    delivery = delivery * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 15) return false;
  out.streamSeq = stream;
  out.deliverySeq = delivery;
  return true;
}
