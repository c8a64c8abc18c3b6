import { describe, expect, it } from "vitest";
import type { JsMsg } from "@nats-io/jetstream";
import { readDelivery, streamSeqOf } from "./delivery.ts";

const msg = (reply: string, streamSequence = -1, deliverySequence = -1) => ({ reply, info: { streamSequence, deliverySequence } }) as unknown as JsMsg;
const read = (m: JsMsg) => ({ ...readDelivery(m, { streamSeq: 0, deliverySeq: 0 }) });

describe("readDelivery", () => {
  it("reads the stream and delivery sequences from old (9-token) and new (11+ token) ack subjects", () => {
    expect(read(msg("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toEqual({ streamSeq: 42, deliverySeq: 40 });
    expect(read(msg("$JS.ACK.EVENTS.processor.3.9007199254740.12.1772438400000000000.0"))).toEqual({ streamSeq: 9007199254740, deliverySeq: 12 });
    expect(read(msg("$JS.ACK._.ACCHASH.EVENTS.processor.1.123456.99.1772438400000000000.5.rand0m"))).toEqual({ streamSeq: 123456, deliverySeq: 99 });
    expect(read(msg("$JS.ACK.hub.ACCHASH.EVENTS.processor-p3.2.1.1.1772438400000000000.0"))).toEqual({ streamSeq: 1, deliverySeq: 1 });
    expect(streamSeqOf(msg("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toBe(42);
  });

  it("leaves anything else to m.info", () => {
    expect(read(msg("_INBOX.abc.1", 7, 3))).toEqual({ streamSeq: 7, deliverySeq: 3 });
    expect(read(msg("$JS.ACK.S.C.1.x2.3.4.5", 77, 4))).toEqual({ streamSeq: 77, deliverySeq: 4 });
    expect(read(msg("$JS.ACK.S.C.1.2.y3.4.5", 76, 5))).toEqual({ streamSeq: 76, deliverySeq: 5 });
    expect(read(msg("$JS.ACK.S.C.1.2.3.4.5.6", 78, 6))).toEqual({ streamSeq: 78, deliverySeq: 6 });
  });
});
