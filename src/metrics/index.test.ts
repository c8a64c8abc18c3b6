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

  // bandit.reward conversion: safe start's figures count conversions, and /metrics said cents of margin.
  it("safe start's HELP says conversions with the conversion objective, cents with margin (the names stay)", async () => {
    const help = async (reward: "margin" | "conversion" | undefined, name: string) => {
      const text = await createMetrics(reward ? { reward } : {}).registry.metrics();
      return text.split("\n").find((l) => l.startsWith(`# HELP ${name} `))!;
    };
    for (const name of ["ps_apprentice_evidence_cents", "ps_conservative_slack_cents"]) {
      expect(await help("conversion", name)).toMatch(/conversions, not cents: bandit\.reward is conversion/);
      expect(await help("conversion", name)).not.toMatch(/margin/);
      for (const reward of ["margin", undefined] as const) expect(await help(reward, name)).toMatch(/cents/);
    }
  });
});
