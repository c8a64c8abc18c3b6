// The hand-written publish frames, byte for byte: what FrameWriter hands the client's outbound queue is
// the NATS protocol's HPUB with a Nats-Msg-Id header, as the text it spells (publisher.test.ts checks
// what a real stream stores from them).
import { describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { digits, FrameWriter, utf8Length } from "./frames.ts";

function writer(maxPayload = 1 << 20): { fw: FrameWriter; sent: Buffer[]; proto: { outMsgs: number; outBytes: number } } {
  const sent: Buffer[] = [];
  const proto = { sendCommand: (b: Uint8Array) => sent.push(Buffer.from(b)), outMsgs: 0, outBytes: 0, info: { max_payload: maxPayload } };
  const nc = { protocol: proto, isClosed: () => false } as unknown as NatsConnection;
  return { fw: FrameWriter.on(nc)!, sent, proto };
}

/** The frame as the protocol spells it (what the writer built as one template string before issue 24). */
function spelled(subject: string, reply: string, msgID: string, data: string | Uint8Array): Buffer {
  const payload = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  const hlen = 27 + Buffer.byteLength(msgID);
  const head = `HPUB ${subject} ${reply} ${hlen} ${hlen + payload.length}\r\nNATS/1.0\r\nNats-Msg-Id: ${msgID}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), payload, Buffer.from("\r\n")]);
}

describe("FrameWriter", () => {
  it("writes each publish as the HPUB frame the protocol spells, in order", () => {
    const { fw, sent, proto } = writer();
    const cases: [string, string, number, string, string | Uint8Array][] = [
      ["decisions.web", "_INBOX.ABC", 1, "ev-1", '{"id":"d-1"}'],
      ["promo.outcomes.email", "_INBOX.ABC", 0, "o-ev-2", ""],
      ["$KV.PS_ANSWERS.ev-3", "_INBOX.ABC", 9_007_199_254_740_991, "ev-3", new Uint8Array([1, 2, 3, 255])],
      ["decisions.web", "_INBOX.ABC", 10, "ü-ßid", '{"name":"Grüße ✓ 😀"}'],
      ["décisions.wéb", "_INBOX.ÄBC", 1000, "x", "y".repeat(70_000)],
    ];
    for (const [subject, inbox, token, id, data] of cases) expect(fw.add(subject, inbox, token, id, data)).toBe(true);
    fw.send();
    const want = Buffer.concat(cases.map(([subject, inbox, token, id, data]) => spelled(subject, `${inbox}.${token}`, id, data)));
    expect(Buffer.concat(sent).equals(want)).toBe(true);
    expect(proto.outMsgs).toBe(cases.length);
  });

  it("leaves to the client what it would refuse: no msg id, whitespace in a subject, a line break in the id, over max_payload", () => {
    const { fw, sent } = writer(100);
    expect(fw.add("a.b", "_INBOX.X", 1, undefined, "x")).toBe(false);
    expect(fw.add("a b", "_INBOX.X", 1, "id", "x")).toBe(false);
    expect(fw.add("a.b", "_INBOX.X", 1, "i\nd", "x")).toBe(false);
    expect(fw.add("a.b", "_INBOX.X", 1, "id", "x".repeat(100))).toBe(false);
    fw.send();
    expect(sent).toEqual([]);
  });
});

describe("utf8Length and digits", () => {
  it("count as Buffer and String do", () => {
    for (const s of ["", "abc", "ü", "✓", "😀", "a\ud800b"]) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    for (const n of [0, 9, 10, 99, 100, 12345, 9_007_199_254_740_991]) expect(digits(n)).toBe(String(n).length);
  });
});
