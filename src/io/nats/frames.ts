// The processor's publishes as protocol frames written by hand (issue 24). A JetStream publish with a
// msg id is `HPUB <subject> <reply> <header bytes> <total bytes>\r\nNATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n<payload>\r\n`
// (the NATS client protocol, docs.nats.io "Client Protocol"). Through nats.js each one costs a MsgHdrs
// object (a Map and arrays), its text and bytes, the command line's text and bytes, the payload's own
// buffer and four entries in the outbound list that are then copied together; in the pipeline's
// allocation profile the publish path was 16% of everything the processor allocated. Here a loop
// turn's frames are written one after the other into one buffer, the payload's JSON text encoded
// straight into it, and the buffer handed to the client's outbound queue once per turn (nats.js
// writes it to the socket on its next flush, with everything else it holds, in order).
//
// Hand-written because nats.js has no API for a pre-built frame: it uses the client's protocol
// handler (`sendCommand`, not in its typings), checked once at construction; without it the
// publisher falls back to `nc.publish`.
import type { NatsConnection } from "@nats-io/transport-node";

/** What is used of nats.js's protocol handler (NatsConnectionImpl.protocol, @nats-io/nats-core 3.x). */
interface ProtocolHandler {
  sendCommand(cmd: Uint8Array): void;
  noMorePublishing?: boolean;
  info?: { max_payload?: number };
  outMsgs: number;
  outBytes: number;
}

/** Anything nats.js would refuse (whitespace in a subject, a line break in a header value) goes through it, to be refused there. */
const UNSAFE_SUBJECT = /\s/;
const UNSAFE_VALUE = /[\r\n]/;
/** "NATS/1.0\r\n" + "Nats-Msg-Id: " + "\r\n\r\n": the header block's bytes besides the id. */
const HEADER_OVERHEAD = 27;
const CHUNK_BYTES = 64 * 1024;

export class FrameWriter {
  private buf: Buffer | undefined;
  private used = 0;
  private scheduled = false;
  private readonly sendTurn = () => {
    this.scheduled = false;
    this.send();
  };

  private constructor(
    private readonly nc: NatsConnection,
    private readonly proto: ProtocolHandler,
  ) {}

  /** A writer on this connection's protocol handler, or undefined when the client has none we know. */
  static on(nc: NatsConnection): FrameWriter | undefined {
    const proto = (nc as unknown as { protocol?: Partial<ProtocolHandler> }).protocol;
    if (!proto || typeof proto.sendCommand !== "function" || typeof proto.outMsgs !== "number") return undefined;
    return new FrameWriter(nc, proto as ProtocolHandler);
  }

  /**
   * Appends a publish with a msg id to this turn's frames; false when it is not one this writer takes
   * (no msg id, a closed or draining connection, a subject or id nats.js would refuse, a payload over
   * the server's max_payload): publish it through the client instead, which says why.
   */
  add(subject: string, reply: string, msgID: string | undefined, data: Uint8Array | string): boolean {
    if (msgID === undefined || this.nc.isClosed() || this.proto.noMorePublishing) return false;
    if (UNSAFE_SUBJECT.test(subject) || UNSAFE_VALUE.test(msgID)) return false;
    const hlen = HEADER_OVERHEAD + Buffer.byteLength(msgID);
    const dlen = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    const max = this.proto.info?.max_payload;
    if (max !== undefined && hlen + dlen > max) return false;
    const head = `HPUB ${subject} ${reply} ${hlen} ${hlen + dlen}\r\nNATS/1.0\r\nNats-Msg-Id: ${msgID}\r\n\r\n`;
    const headBytes = Buffer.byteLength(head);
    const buf = this.room(headBytes + dlen + 2);
    let at = this.used;
    at += buf.write(head, at, headBytes, "utf8");
    if (typeof data === "string") at += buf.write(data, at, dlen, "utf8");
    else {
      buf.set(data, at);
      at += dlen;
    }
    buf[at++] = 13;
    buf[at++] = 10;
    this.used = at;
    this.proto.outMsgs++;
    this.proto.outBytes += hlen + dlen;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.sendTurn);
    }
    return true;
  }

  /** Hands the frames written so far to the client's outbound queue (it flushes them to the socket). */
  send(): void {
    const buf = this.buf;
    if (!buf || this.used === 0) return;
    this.proto.sendCommand(buf.subarray(0, this.used));
    // The client holds the frames' bytes until it writes them: the rest of the buffer is still free.
    this.buf = buf.subarray(this.used);
    this.used = 0;
  }

  private room(bytes: number): Buffer {
    if (this.buf && this.used + bytes <= this.buf.length) return this.buf;
    this.send();
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.used = 0;
    return this.buf;
  }
}

/**
 * A PubAck read without decoding it when it is the usual one: `{"stream":…}` (the server writes the
 * error first when there is one) with or without `"duplicate": true` (nats-server 2.9 writes it with a
 * space). Undefined: read it in full.
 */
export function quickPubAck(d: Uint8Array): "stored" | "duplicate" | undefined {
  if (d.length < 12 || !startsWith(d, STREAM_PREFIX)) return undefined;
  const at = indexOf(d, DUPLICATE_KEY);
  if (at < 0) return "stored";
  let i = at + DUPLICATE_KEY.length;
  while (d[i] === 32 || d[i] === 58) i++; // spaces and the colon
  if (d[i] === 116) return "duplicate"; // t(rue)
  if (d[i] === 102) return "stored"; // f(alse)
  return undefined;
}

const STREAM_PREFIX = Buffer.from('{"stream":');
const DUPLICATE_KEY = Buffer.from('"duplicate"');

function startsWith(d: Uint8Array, p: Uint8Array): boolean {
  for (let i = 0; i < p.length; i++) if (d[i] !== p[i]) return false;
  return true;
}

function indexOf(d: Uint8Array, p: Uint8Array): number {
  outer: for (let i = 0; i + p.length <= d.length; i++) {
    for (let j = 0; j < p.length; j++) if (d[i + j] !== p[j]) continue outer;
    return i;
  }
  return -1;
}
