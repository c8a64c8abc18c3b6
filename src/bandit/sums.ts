// Running sums of a sample (count, sum, sum of squares) and what the safe-start policies read from them
// (issue 23): the mean with a normal interval, and a lower confidence bound on the sum itself. Plain
// data, so they go into checkpoints and sync events as they are, and partitions add them.

export interface Sums {
  n: number;
  sum: number;
  sumSq: number;
}

export const emptySums = (): Sums => ({ n: 0, sum: 0, sumSq: 0 });

export function addSum(s: Sums, x: number): void {
  s.n++;
  s.sum += x;
  s.sumSq += x * x;
}

/** Several partitions' sums as one sample. */
export function totalSums(parts: readonly Sums[]): Sums {
  const t = emptySums();
  for (const p of parts) {
    t.n += p.n;
    t.sum += p.sum;
    t.sumSq += p.sumSq;
  }
  return t;
}

/** The sample variance (n − 1), 0 below two observations. */
export function sampleVariance(s: Sums): number {
  if (s.n < 2) return 0;
  return Math.max(0, (s.sumSq - (s.sum * s.sum) / s.n) / (s.n - 1));
}

export const Z95 = 1.959963984540054;

/** The mean and its normal interval (z = 1.96: 95%); NaN without observations. */
export function meanInterval(s: Sums, z = Z95): { mean: number; lo: number; hi: number } {
  if (s.n === 0) return { mean: NaN, lo: NaN, hi: NaN };
  const mean = s.sum / s.n;
  const half = z * Math.sqrt(sampleVariance(s) / s.n);
  return { mean, lo: mean - half, hi: mean + half };
}

/**
 * One decision's doubly robust term for a target policy's value (Dudík, Langford & Li 2011): the
 * model's value of the target policy at the decision, plus the logged outcome's residual under the
 * model, weighted by the target's probability of the logged arm over the logging policy's. Unbiased
 * for the target's value whenever the logged propensity is exact, whatever the model.
 */
export function doublyRobustTerm(qTarget: number, pTarget: number, pLog: number, reward: number, qLogged: number): number {
  return qTarget + (pTarget / pLog) * (reward - qLogged);
}
