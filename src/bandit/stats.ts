// Interval estimates for the dashboard and evaluation.
import betaQuantile from "@stdlib/stats-base-dists-beta-quantile";

/** Central 95% credible interval of a Beta posterior. */
export function betaInterval95(alpha: number, beta: number): [number, number] {
  return [betaQuantile(0.025, alpha, beta), betaQuantile(0.975, alpha, beta)];
}

const Z95 = 1.959963984540054;

/** Wilson score interval for a proportion k/n (Wilson 1927). */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Difference of two proportions p1 − p2 with Newcombe's (1998) hybrid score interval (method 10),
 * built from the two Wilson intervals.
 */
export function newcombeDiff(k1: number, n1: number, k2: number, n2: number, z = Z95): { estimate: number; ci95: [number, number] } {
  const p1 = n1 > 0 ? k1 / n1 : 0;
  const p2 = n2 > 0 ? k2 / n2 : 0;
  const [l1, u1] = wilson(k1, n1, z);
  const [l2, u2] = wilson(k2, n2, z);
  const d = p1 - p2;
  const lo = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const hi = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { estimate: d, ci95: [Math.max(-1, lo), Math.min(1, hi)] };
}
