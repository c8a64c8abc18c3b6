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
  // nats.js's JsMsg implementation has the reply subject (not in its interface).
  const r = (m as JsMsg & { reply?: unknown }).reply;
  if (typeof r === "string" && r.startsWith("$JS.ACK.") && parseAck(r, out)) return out;
  const info = m.info;
  out.streamSeq = info.streamSequence;
  out.deliverySeq = info.deliverySequence;
  return out;
}

/** The stream sequence alone (tests, tools). */
export function streamSeqOf(m: JsMsg): number {
  return readDelivery(m, { streamSeq: 0, deliverySeq: 0 }).streamSeq;
}

function parseAck(r: string, out: Delivery): boolean {
  let dots = 0;
  for (let i = 0; i < r.length; i++) if (r.charCodeAt(i) === 46) dots++;
  const tokens = dots + 1;
  const want = tokens === 9 ? 5 : tokens >= 11 ? 7 : -1;
  if (want < 0) return false;
  // Skip to the stream sequence: after the want-th dot; the delivery sequence is the token after it.
  let i = 0;
  for (let d = 0; d < want; i++) if (r.charCodeAt(i) === 46) d++;
  let stream = 0;
  let digits = 0;
  for (; i < r.length; i++) {
    const c = r.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return false;
    stream = stream * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 15) return false;
  let delivery = 0;
  digits = 0;
  for (i++; i < r.length; i++) {
    const c = r.charCodeAt(i);
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
