// Start-up retries against a real nats-server that never gets JetStream (an operator's NATS_URL naming
// a server started without -js): giving up says what is wrong and what to do, as a config error does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "../../config/index.ts";
import { createLogger } from "../../log/index.ts";
import { jetstreamServer, type NatsServerHandle } from "../../../test/support/nats-server.ts";
import { NatsError, PS_ERR_NATS, provision, retryTransient } from "./index.ts";

const cfg = loadConfig({ env: {} });
const log = createLogger("silent");
let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  // The generated config's jetstream block, then switched off: a plain NATS server.
  server = await jetstreamServer({ extraConf: "jetstream: disabled" });
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("retryTransient", () => {
  it("gives up on a server without JetStream with an error naming NATS_URL and the fix", async () => {
    const err = await retryTransient("provisioning", () => provision(nc, cfg, log), log, 300).then(
      () => undefined,
      (e: unknown) => e,
    );
    // It was the client's bare JetStreamNotEnabled: the program ended with "promo-stream failed to
    // start: jetstream is not enabled" after a minute of "JetStream not ready yet; retrying".
    expect(err).toBeInstanceOf(NatsError);
    expect((err as NatsError).code).toBe(PS_ERR_NATS.JetStreamUnavailable);
    expect((err as Error).message).toMatch(/provisioning: .*jetstream is not enabled.*fix: .*-js.*NATS_URL/);
  });
});
