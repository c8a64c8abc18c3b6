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
const HPUB = Buffer.from("HPUB ");
/** Ends the command line and starts the header block, up to the msg id. */
const HEADER_START = Buffer.from("\r\nNATS/1.0\r\nNats-Msg-Id: ");
const HEADER_END = Buffer.from("\r\n\r\n");
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
   * Appends a publish with a msg id to this turn's frames, its reply subject `<inbox>.<token>`; false
   * when it is not one this writer takes (no msg id, a closed or draining connection, a subject or id
   * nats.js would refuse, a payload over the server's max_payload): publish it through the client
   * instead, which says why.
   *
   * The command line and the header are written piece by piece, with no text of their own: built as
   * one template string (and the reply subject as another), a frame allocated ~600 bytes, ~95 now
   * (a 770-byte decision; issue 24: 5,149 → 4,930 bytes an event in the pipeline's drain).
   */
  add(subject: string, inbox: string, token: number, msgID: string | undefined, data: Uint8Array | string): boolean {
    if (msgID === undefined || this.nc.isClosed() || this.proto.noMorePublishing) return false;
    if (UNSAFE_SUBJECT.test(subject) || UNSAFE_VALUE.test(msgID)) return false;
    const idBytes = utf8Length(msgID);
    const hlen = HEADER_OVERHEAD + idBytes;
    const dlen = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    const max = this.proto.info?.max_payload;
    if (max !== undefined && hlen + dlen > max) return false;
    const subjectBytes = utf8Length(subject);
    const inboxBytes = utf8Length(inbox);
    // HPUB <subject> <inbox>.<token> <hlen> <total>\r\n, then the header block (hlen bytes), the payload and \r\n.
    const line = HPUB.length + subjectBytes + 1 + inboxBytes + 1 + digits(token) + 1 + digits(hlen) + 1 + digits(hlen + dlen) + 2;
    const buf = this.room(line + hlen + dlen + 2);
    let at = this.used;
    buf.set(HPUB, at);
    at = writeText(buf, at + HPUB.length, subject, subjectBytes);
    buf[at++] = 32;
    at = writeText(buf, at, inbox, inboxBytes);
    buf[at++] = 46;
    at = writeInt(buf, at, token);
    buf[at++] = 32;
    at = writeInt(buf, at, hlen);
    buf[at++] = 32;
    at = writeInt(buf, at, hlen + dlen);
    buf.set(HEADER_START, at);
    at = writeText(buf, at + HEADER_START.length, msgID, idBytes);
    buf.set(HEADER_END, at);
    at += HEADER_END.length;
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

/** UTF-8 bytes of a short text (a subject, a msg id): its length when it is ASCII, as it nearly always is. */
export function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.byteLength(s, "utf8");
  return s.length;
}

/** Writes a short text of `bytes` UTF-8 bytes (utf8Length) at `at`; where it ends. */
function writeText(buf: Buffer, at: number, s: string, bytes: number): number {
  if (bytes !== s.length) return at + buf.write(s, at, bytes, "utf8");
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  return at + bytes;
}

/** Decimal digits of a non-negative integer. */
export function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes a non-negative integer in decimal at `at`; where it ends. */
function writeInt(buf: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  let i = end;
  do {
    const q = Math.floor(n / 10);
    buf[--i] = 48 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
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
