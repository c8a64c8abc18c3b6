// Real network partitions between a processor and nats-server (issue 25): the processor runs in a
// network namespace of its own (`ip netns`, a veth into a bridge), a producer keeps publishing beside
// the server, and the processor's end of the link goes down for 5, 15 and 60 s, once about a third of
// the decision points are decided. A single processor and a partitioned one (SCALE=true). Every
// decision point must be decided exactly once, nothing called lost (the stream holds every event),
// and /health, once back to 200 after the heal, must stay there. The time to decide again is printed
// (test/measure/partition-soak.ts measures it over many runs; tests do not assert times).
import { describe, expect, it } from "vitest";
import { netlabAvailable } from "../support/netlab.ts";
import { runCut, type Deployment } from "../support/partition.ts";

const CUTS_SEC = [5, 15, 60];
const DEPLOYMENTS: Deployment[] = ["single", "partitioned"];

describe.concurrent("a network partition between the processor and nats-server", { timeout: 240_000 }, () => {
  for (const deployment of DEPLOYMENTS)
    for (const cut of CUTS_SEC)
      it(`${deployment}, ${cut} s cut: every decision point decided once, nothing called lost, /health steady after the heal`, async () => {
        expect(netlabAvailable(), "these tests make network namespaces: run them as root with iproute2 installed (.ci/run installs it)").toBe(true);
        const r = await runCut({ cutMs: cut * 1000, deployment, points: 1_500, publishMs: 15_000, label: `partition-${deployment}-${cut}s` });
        console.log(
          `partition ${deployment} ${cut} s: decided ${r.decided}/${r.points}, twice ${r.twice}, deciding again ${(r.decidingAgainMs / 1000).toFixed(1)} s after the heal, /health 200 ${r.healthOkAfterMs === undefined ? "never" : `${(r.healthOkAfterMs / 1000).toFixed(1)} s`} after it`,
        );
        expect(r.lost).toBe(0);
        expect(r.twice).toBe(0);
        expect(r.reportedLost).toBe(0);
        expect(r.healthOkAfterMs).toBeDefined();
        expect(r.healthFlaps).toBe(0);
        // Something was decided after the heal that could not have been before it (the cut was real).
        expect(Number.isFinite(r.decidingAgainMs)).toBe(true);
      });
});
