// A nats-server cluster with JetStream on loopback (tests of partitioned processors, the scale-out
// benchmark): random client and route ports, a temp store per node. Nodes can be killed and restarted
// (same ports, same store) to test failover.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createServer, type Server } from "node:net";
import { NatsError, PS_ERR_NATS } from "./errors.ts";
import { startNatsServer, type NatsServerHandle } from "./server.ts";

/**
 * `n` distinct TCP ports on loopback that were free a moment ago (the OS picked them). All are held
 * until all are picked, so the OS cannot hand the same one out twice.
 */
export async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.unref();
          s.on("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = held.map((s) => (s.address() as { port: number }).port);
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Start attempts with fresh ports when one was taken between picking and binding. */
const PORT_ATTEMPTS = 3;

export interface NatsCluster {
  /** Comma-separated client URLs of all nodes (what NATS_URL takes). */
  readonly url: string;
  nodes: (NatsServerHandle | undefined)[];
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(size);
    } catch (err) {
      // Another process can take a picked port before the node binds it: pick again.
      if (!(err instanceof NatsError && err.code === PS_ERR_NATS.PortTaken) || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

async function startOnce(size: number): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "ps-cluster-"));
  const ports = await freePorts(2 * size);
  const clientPorts = ports.slice(0, size);
  const routePorts = ports.slice(size);
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(", ");
  const start = (i: number) =>
    startNatsServer({
      port: clientPorts[i]!,
      serverName: `n${i}`,
      storeDir: join(dir, `n${i}`),
      extraConf: `cluster { name: "ps-test", listen: "127.0.0.1:${routePorts[i]}", routes: [ ${routes} ] }`,
    });
  const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => start(i)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    for (const r of started) if (r.status === "fulfilled") await r.value.stop();
    rmSync(dir, { recursive: true, force: true });
    throw failed.reason;
  }
  const nodes: (NatsServerHandle | undefined)[] = started.map((r) => (r as PromiseFulfilledResult<NatsServerHandle>).value);
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
  // And places a stream on every node: the meta leader can answer before it knows its peers, and a
  // replicated stream made then fails "no suitable peers for placement" (seen in a CI run, a KV bucket
  // with 3 replicas made right after the start).
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (;;) {
      try {
        await jsm.streams.add({ name: "PS_CLUSTER_PROBE", subjects: ["ps-cluster-probe"], num_replicas: size });
        await jsm.streams.delete("PS_CLUSTER_PROBE");
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`cluster JetStream cannot place a stream on ${size} nodes: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
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
