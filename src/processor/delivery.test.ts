import { describe, expect, it } from "vitest";
import type { JsMsg } from "@nats-io/jetstream";
import { readDelivery, readPayload, streamSeqOf } from "./delivery.ts";

const msg = (reply: string, streamSequence = -1, deliverySequence = -1) => ({ reply, info: { streamSequence, deliverySequence } }) as unknown as JsMsg;
/** Shaped as nats.js's JsMsgImpl: the reply subject's bytes in msg._msg.reply, its text made on demand. */
const wire = (reply: string, streamSequence = -1, deliverySequence = -1) =>
  ({
    msg: { _msg: { reply: new TextEncoder().encode(reply) } },
    get reply(): string {
      throw new Error("the text of the reply subject was made");
    },
    info: { streamSequence, deliverySequence },
  }) as unknown as JsMsg;
const read = (m: JsMsg) => ({ ...readDelivery(m, { streamSeq: 0, deliverySeq: 0 }) });

describe("readDelivery", () => {
  it("reads the stream and delivery sequences from old (9-token) and new (11+ token) ack subjects", () => {
    expect(read(msg("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toEqual({ streamSeq: 42, deliverySeq: 40 });
    expect(read(msg("$JS.ACK.EVENTS.processor.3.9007199254740.12.1772438400000000000.0"))).toEqual({ streamSeq: 9007199254740, deliverySeq: 12 });
    expect(read(msg("$JS.ACK._.ACCHASH.EVENTS.processor.1.123456.99.1772438400000000000.5.rand0m"))).toEqual({ streamSeq: 123456, deliverySeq: 99 });
    expect(read(msg("$JS.ACK.hub.ACCHASH.EVENTS.processor-p3.2.1.1.1772438400000000000.0"))).toEqual({ streamSeq: 1, deliverySeq: 1 });
    expect(streamSeqOf(msg("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toBe(42);
  });

  it("reads them from the reply subject's bytes where nats.js keeps them, without its text", () => {
    expect(read(wire("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toEqual({ streamSeq: 42, deliverySeq: 40 });
    expect(read(wire("$JS.ACK._.ACCHASH.EVENTS.processor.1.123456.99.1772438400000000000.5.rand0m"))).toEqual({ streamSeq: 123456, deliverySeq: 99 });
    expect(read(wire("$JS.ACK.S.C.1.x2.3.4.5", 77, 4))).toEqual({ streamSeq: 77, deliverySeq: 4 });
    expect(read(wire("_INBOX.abc.1", 7, 3))).toEqual({ streamSeq: 7, deliverySeq: 3 });
  });

  it("leaves anything else to m.info", () => {
    expect(read(msg("_INBOX.abc.1", 7, 3))).toEqual({ streamSeq: 7, deliverySeq: 3 });
    expect(read(msg("$JS.ACK.S.C.1.x2.3.4.5", 77, 4))).toEqual({ streamSeq: 77, deliverySeq: 4 });
    expect(read(msg("$JS.ACK.S.C.1.2.y3.4.5", 76, 5))).toEqual({ streamSeq: 76, deliverySeq: 5 });
    expect(read(msg("$JS.ACK.S.C.1.2.3.4.5.6", 78, 6))).toEqual({ streamSeq: 78, deliverySeq: 6 });
  });
});

describe("readPayload", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const text = (m: JsMsg) => {
    const p = readPayload(m, { bytes: new Uint8Array(0), start: 0, end: 0 });
    return new TextDecoder().decode(p.bytes.subarray(p.start, p.end));
  };
  it("is the payload after the headers in nats.js's buffer, without its view (data)", () => {
    const m = (rdata: Uint8Array | undefined, hdr: number) =>
      ({
        msg: { _rdata: rdata, _msg: { hdr } },
        get data(): Uint8Array {
          return rdata === undefined ? new Uint8Array(0) : rdata.subarray(Math.max(hdr, 0));
        },
      }) as unknown as JsMsg;
    expect(text(m(bytes("NATS/1.0\r\n\r\n{}"), 12))).toBe("{}");
    expect(text(m(bytes("{\"a\":1}"), -1))).toBe('{"a":1}');
    expect(text(m(undefined, -1))).toBe("");
  });
  it("is m.data for another JsMsg", () => {
    expect(text({ data: bytes("{}") } as unknown as JsMsg)).toBe("{}");
  });
});
