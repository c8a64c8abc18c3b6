// A real nats-server with JetStream on a random port and a temp store, for one test file.
// (STYLE.md rule 11; the launcher itself lives in src/io/nats/server.ts and is shared with npm start.)
import { startNatsServer, type NatsServerHandle, type NatsServerOptions } from "../../src/io/nats/index.ts";

export type { NatsServerHandle };

export async function jetstreamServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  return startNatsServer({ port: -1, ...opts });
}
