import { describe, expect, it } from "vitest";
import type { JsMsg } from "@nats-io/jetstream";
import { streamSeqOf } from "./delivery.ts";

const msg = (reply: string, seq = -1) => ({ reply, seq }) as unknown as JsMsg;

describe("streamSeqOf", () => {
  it("reads the stream sequence from old (9-token) and new (11+ token) ack subjects", () => {
    expect(streamSeqOf(msg("$JS.ACK.EVENTS.processor.1.42.40.1772438400000000000.7"))).toBe(42);
    expect(streamSeqOf(msg("$JS.ACK.EVENTS.processor.3.9007199254740.12.1772438400000000000.0"))).toBe(9007199254740);
    expect(streamSeqOf(msg("$JS.ACK._.ACCHASH.EVENTS.processor.1.123456.99.1772438400000000000.5.rand0m"))).toBe(123456);
    expect(streamSeqOf(msg("$JS.ACK.hub.ACCHASH.EVENTS.processor-p3.2.1.1.1772438400000000000.0"))).toBe(1);
  });

  it("leaves anything else to m.seq", () => {
    expect(streamSeqOf(msg("_INBOX.abc.1", 7))).toBe(7);
    expect(streamSeqOf(msg("$JS.ACK.S.C.1.x2.3.4.5", 77))).toBe(77);
    expect(streamSeqOf(msg("$JS.ACK.S.C.1.2.3.4.5.6", 78))).toBe(78);
  });
});
