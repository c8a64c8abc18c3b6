// A 3-node nats-server cluster whose nodes each live in a network namespace of their own (issue 25), so
// one node can be cut off from the others and from every client, as a network would: `hosts[i].cut()`.
// Each node listens on its own address (client port 4222, routes 6222): no ports to pick.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startNatsServer, type NatsServerHandle } from "../../src/io/nats/index.ts";
import type { NetHost, NetLab } from "./netlab.ts";

export interface LabCluster {
  /** Every node's client URL, comma-separated (what NATS_URL takes). */
  readonly url: string;
  readonly hosts: NetHost[];
  readonly nodes: NatsServerHandle[];
  /** The node's client URL. */
  urlOf(i: number): string;
  stop(): Promise<void>;
}

export async function startLabCluster(lab: NetLab, size = 3): Promise<LabCluster> {
  const hosts = Array.from({ length: size }, (_, i) => lab.host(`n${i}`));
  const dir = mkdtempSync(join(tmpdir(), "ps-labcluster-"));
  const routes = hosts.map((h) => `nats-route://${h.ip}:6222`).join(", ");
  const started = await Promise.allSettled(
    hosts.map((h, i) =>
      startNatsServer({
        host: h.ip,
        port: 4222,
        serverName: `n${i}`,
        storeDir: join(dir, `n${i}`),
        extraConf: `cluster { name: "ps-lab", listen: "${h.ip}:6222", routes: [ ${routes} ] }`,
        prefix: h.prefix,
      }),
    ),
  );
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async () => {
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const urlOf = (i: number) => `nats://${hosts[i]!.ip}:4222`;
  // JetStream answers on every node once they have elected a meta leader.
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < size; i++) {
    const nc = await connect({ servers: urlOf(i) });
    try {
      for (;;) {
        try {
          await (await jetstreamManager(nc)).getAccountInfo();
          break;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`lab cluster JetStream not ready: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }
  return { url: hosts.map((_, i) => urlOf(i)).join(","), hosts, nodes, urlOf, stop };
}
