// The cluster launcher lives with the single-server one (src/io/nats); tests use it under these names.
export { startNatsCluster as startCluster } from "../../src/io/nats/index.ts";
export type { NatsCluster as Cluster } from "../../src/io/nats/index.ts";
