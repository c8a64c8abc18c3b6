// The order test files start in. vitest runs larger files first when it has no timings cached (a fresh
// clone, as CI has), but file size says little here: test/integration/partition.test.ts is 2 KB and runs
// for ~110 s (six network cuts of 15 s), so it started last and ran alone while the other worker idled
// (CI of 475dc01: 704 s for the suite, of which ~100 s that tail). The files measured to run longest
// start first; the rest keep vitest's order. Timings from that CI run, on 2 cores.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Files that run longest (seconds in CI of 475dc01), in the order they start. The two that cut networks
 * (partition, cluster-partition) and the two that run 3-node clusters (cluster, cluster-partition) are
 * kept from starting side by side on the two workers.
 */
export const LONGEST_FIRST = [
  "test/integration/partition.test.ts", // 110 s
  "test/integration/cluster.test.ts", // 128 s
  "src/scale/leases.test.ts", // 81 s
  "test/integration/example-nats-away.test.ts", // 57 s
  "test/integration/cluster-partition.test.ts", // 49 s
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(relative(f.project.config.root, f.moduleId));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: within the rest, vitest's order holds.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
