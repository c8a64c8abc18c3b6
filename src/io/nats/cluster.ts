// A nats-server cluster with JetStream on loopback (tests of partitioned processors, the scale-out
// benchmark): random client and route ports, a temp store per node. Nodes can be killed and restarted
// (same ports, same store) to test failover.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createServer } from "node:net";
import { startNatsServer, type NatsServerHandle } from "./server.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsCluster {
  /** Comma-separated client URLs of all nodes (what NATS_URL takes). */
  readonly url: string;
  nodes: (NatsServerHandle | undefined)[];
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "ps-cluster-"));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(", ");
  const start = (i: number) =>
    startNatsServer({
      port: clientPorts[i]!,
      serverName: `n${i}`,
      storeDir: join(dir, `n${i}`),
      extraConf: `cluster { name: "ps-test", listen: "127.0.0.1:${routePorts[i]}", routes: [ ${routes} ] }`,
    });
  const nodes: (NatsServerHandle | undefined)[] = await Promise.all(Array.from({ length: size }, (_, i) => start(i)));
  const url = clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  // JetStream answers on every node once they have elected a meta leader.
  const deadline = Date.now() + 30_000;
  for (const p of clientPorts) {
    const nc = await connect({ servers: `nats://127.0.0.1:${p}` });
    for (;;) {
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`cluster JetStream not ready: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await nc.close();
  }
  return {
    url,
    nodes,
    async kill(i) {
      await nodes[i]?.kill9();
      nodes[i] = undefined;
    },
    async restart(i) {
      nodes[i] = await start(i);
    },
    async stop() {
      for (const n of nodes) await n?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
