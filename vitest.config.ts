import { defineConfig } from "vitest/config";
import { LongestFirstSequencer } from "./test/support/sequencer.ts";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "simulator/**/*.test.ts", "web/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: integration tests start real servers and browsers; more workers only contend.
    maxWorkers: 2,
    // Memory tests call global.gc() to measure what is retained, not what is merely not yet collected.
    execArgv: ["--expose-gc"],
    reporters: ["default"],
    // The longest files first, so none is left running alone at the end (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
  },
});
