import { describe, expect, it } from "vitest";
import { createMetrics } from "./index.ts";

describe("createMetrics", () => {
  // /metrics is what an operator reads: the HELP of a labelled counter lists the values its label takes.
  // ps_consumer_repositions_total left out consumer-missing (src/processor/processor.ts counts it when
  // the durable consumer was deleted; README, "Its consumer deleted", names it).
  it("ps_consumer_repositions_total's HELP names every reason the processor counts", async () => {
    const text = await createMetrics().registry.metrics();
    const help = text.split("\n").find((l) => l.startsWith("# HELP ps_consumer_repositions_total "));
    expect(help).toBeDefined();
    for (const reason of ["deliveries-lost", "deliveries-stalled", "stream-holds-gap", "consumer-missing"]) expect(help).toContain(reason);
  });
});
