// Errors by class and server code, never by message text (issue 15).
import { describe, expect, it } from "vitest";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { errors } from "@nats-io/transport-node";
import { isNotFound, isTimeout, isTransientJetStreamError, isWrongLastSequence, NatsError, PS_ERR_NATS } from "./errors.ts";

const api = (code: number, err_code: number, description = "whatever the server says") => new JetStreamApiError({ code, err_code, description });

describe("JetStream error predicates", () => {
  it("not found: the stream or consumer codes, whatever the text", () => {
    expect(isNotFound(api(404, JetStreamApiCodes.StreamNotFound))).toBe(true);
    expect(isNotFound(api(404, JetStreamApiCodes.ConsumerNotFound, "gone"))).toBe(true);
    expect(isNotFound(api(400, 10071, "stream not found (but it is a sequence error)"))).toBe(false);
    expect(isNotFound(new Error("stream not found"))).toBe(false);
  });

  it("a lost compare-and-set: wrong last sequence", () => {
    expect(isWrongLastSequence(api(400, JetStreamApiCodes.StreamWrongLastSequence))).toBe(true);
    expect(isWrongLastSequence(new errors.TimeoutError())).toBe(false);
  });

  it("transient: timeouts, no responders, 503s and cluster codes; also when wrapped in ours", () => {
    expect(isTimeout(new errors.TimeoutError())).toBe(true);
    expect(isTransientJetStreamError(new errors.TimeoutError())).toBe(true);
    expect(isTransientJetStreamError(new errors.RequestError("x", { cause: new errors.TimeoutError() }))).toBe(true);
    expect(isTransientJetStreamError(api(503, 10008, "JetStream system temporarily unavailable"))).toBe(true);
    expect(isTransientJetStreamError(api(500, 10009))).toBe(true);
    expect(isTransientJetStreamError(new NatsError(PS_ERR_NATS.Provision, "provisioning failed", { cause: new errors.TimeoutError() }))).toBe(true);
    expect(isTransientJetStreamError(api(400, 10058, "stream name already in use, timeout"))).toBe(false);
    expect(isTransientJetStreamError(new Error("timeout"))).toBe(false);
  });
});
