import { describe, expect, it } from "vitest";
import { betaInterval95, newcombeDiff, wilson } from "./index.ts";

const close = (got: [number, number], want: [number, number]) => {
  // Published values are given to 4 decimals.
  expect(got[0]).toBeCloseTo(want[0], 4);
  expect(got[1]).toBeCloseTo(want[1], 4);
};

describe("wilson", () => {
  // Newcombe (1998a), Statistics in Medicine 17:857–872, Table I, method 3 (score, no continuity correction).
  it.each([
    [81, 263, [0.2553, 0.3662]],
    [15, 148, [0.0624, 0.1605]],
    [0, 20, [0, 0.1611]],
    [1, 29, [0.0061, 0.1718]],
  ] as const)("%i/%i matches Newcombe 1998a", (k, n, want) => close(wilson(k, n), [...want]));

  it("is [0, 1] with no trials", () => expect(wilson(0, 0)).toEqual([0, 1]));
});

describe("newcombeDiff", () => {
  // Newcombe (1998b), Statistics in Medicine 17:873–890, Table II, method 10 (hybrid score, no CC).
  it.each([
    [56, 70, 48, 80, [0.0524, 0.3339]],
    [9, 10, 3, 10, [0.1705, 0.809]],
    [5, 56, 0, 29, [-0.0381, 0.1926]],
    [0, 10, 0, 20, [-0.1611, 0.2775]],
    [0, 10, 0, 10, [-0.2775, 0.2775]],
    [10, 10, 0, 20, [0.6791, 1]],
    [10, 10, 0, 10, [0.6075, 1]],
  ] as const)("%i/%i − %i/%i matches Newcombe 1998b", (k1, n1, k2, n2, want) => {
    const r = newcombeDiff(k1, n1, k2, n2);
    expect(r.estimate).toBeCloseTo(k1 / n1 - k2 / n2, 12);
    close(r.ci95, [...want]);
  });
});

describe("betaInterval95", () => {
  it("is the central 95% of the Beta", () => {
    // Beta(1, 1) is uniform: its 2.5% and 97.5% quantiles are 0.025 and 0.975.
    close(betaInterval95(1, 1), [0.025, 0.975]);
    // Beta(1, b) has CDF 1 − (1 − x)^b, so its quantile at q is 1 − (1 − q)^(1/b).
    close(betaInterval95(1, 9), [1 - 0.975 ** (1 / 9), 1 - 0.025 ** (1 / 9)]);
  });
});
