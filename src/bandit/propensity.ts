// P(Thompson sampling picks arm i | posteriors), by numerical integration instead of Monte Carlo,
// and the Thompson draws themselves (paulsonChoose), from the same approximation of each posterior.
//
// Why not Monte Carlo: with D draws per decision it costs D × (number of arms) Beta draws, about
// 1.4 ms per decision at 50 arms and 64 draws (bench/decide.bench.ts before this module), and its
// answer is still only good to ±1/√D (±0.06 at D = 64). The integral below costs
// nodes × (number of arms) evaluations of closed-form expressions and has no sampling noise.
//
// What it computes:
//   P(i) = ∫ f_i(x) · Π_{j≠i} F_j(x) dx = ∫₀¹ G(Q_i(u)) du,   G(x) = Π_{j≠i} F_j(x),
// where F_j is arm j's Beta CDF and Q_i arm i's quantile. Both use Paulson's (1942) normal
// approximation of the F distribution (Wilson–Hilferty cube roots on the two gamma variates behind a
// Beta), which has a closed-form inverse: for Beta(a, b) and f = b·x / (a·(1 − x)),
//   F(x) ≈ Φ( ((1 − 1/(9b))·∛f − (1 − 1/(9a))) / √(∛f²/(9b) + 1/(9a)) ).
// Its CDF error is about 0.003 for shapes ≥ 2, below 0.0003 for shapes ≥ 20 (a learned arm), and
// about 0.012 for Beta(1, b) (a cold arm). The integral runs from the point below which some other
// arm is almost surely (1 − 10⁻⁷) above x, by Gauss–Legendre with `nodes` nodes.
//
// The policy draws its Thompson scores from that same approximation (paulsonChoose, issue #7), so the
// integral is the probability of what the policy does; its only error is the quadrature's: within
// 0.003 absolute and 8% relative of the policy's own pick frequencies for arms picked at least 1% of
// the time (measured worst 0.0018 and 5.3%, propensity.test.ts). Against
// exact Beta draws (what Thompson sampling would do with Cheng's sampler, src/random) the answer is
// within 0.004 absolute and 12% relative on learned posteriors (5 and 50 arms) for every arm picked at
// least 0.5% of the time, within 3% for the arm picked most, and within 0.012 on hand-made hard cases
// (a sharp arm against wide ones, shapes below 1 from the hierarchy): that difference is now a
// property of the exploration (slightly different draws), not an error in the logged propensity.
// Monte Carlo stays available (bandit.propensityMethod "monte-carlo"), drawing the same way.
// Hand-written: no library we know computes the win probability of one of many independent Betas.
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { sampleBeta, type Rng } from "../random/index.ts";
import type { BetaParams } from "./posterior.ts";

/** The smallest propensity reported: the chosen arm was picked, so it is never reported as impossible. */
export const PROPENSITY_FLOOR = 1e-4;
/** |z| beyond which Φ is taken as 0 or 1 (Φ(−5.2) ≈ 1e-7). */
const Z_EDGE = 5.2;

/**
 * Φ(z) by Zelen & Severo (1964), Abramowitz & Stegun 26.2.17: absolute error below 7.5·10⁻⁸.
 * Hand-written for speed: it runs nodes × arms times per decision, and a general erfc costs more.
 */
export function normalCdf(z: number): number {
  const x = z < 0 ? -z : z;
  const t = 1 / (1 + 0.2316419 * x);
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = 0.3989422804014327 * Math.exp(-0.5 * x * x) * poly;
  return z < 0 ? tail : 1 - tail;
}

// Φ on [−Z_EDGE, Z_EDGE] by linear interpolation in a table: the inner loop runs nodes × arms times
// per decision and a table read is several times cheaper than the exp inside normalCdf.
// Interpolation error ≤ h²/8 · max|φ'| = (10.4/4096)²/8 · 0.242 ≈ 2·10⁻⁷.
const PHI_CELLS = 4096;
const PHI_SCALE = PHI_CELLS / (2 * Z_EDGE);
const PHI = new Float64Array(PHI_CELLS + 2);
for (let i = 0; i < PHI.length; i++) PHI[i] = normalCdf(-Z_EDGE + i / PHI_SCALE);

/** Φ(z) for −Z_EDGE < z < Z_EDGE, from the table. */
function phi(z: number): number {
  const f = (z + Z_EDGE) * PHI_SCALE;
  const i = f | 0;
  const lo = PHI[i]!;
  return lo + (PHI[i + 1]! - lo) * (f - i);
}

// Acklam's rational approximation of Φ⁻¹ (relative error below 1.2·10⁻⁹). Hand-written for the
// same reason as Φ: it runs once per node per decision, and @stdlib's quantile (exact, via erfinv)
// cost more than the rest of a 5-arm decision in the profile. The library one still serves
// betaQuantileApprox, off the hot path.
const A1 = -39.69683028665376, A2 = 220.9460984245205, A3 = -275.9285104469687, A4 = 138.357751867269, A5 = -30.66479806614716, A6 = 2.506628277459239;
const B1 = -54.47609879822406, B2 = 161.5858368580409, B3 = -155.6989798598866, B4 = 66.80131188771972, B5 = -13.28068155288572;
const C1 = -0.007784894002430293, C2 = -0.3223964580411365, C3 = -2.400758277161838, C4 = -2.549732539343734, C5 = 4.374664141464968, C6 = 2.938163982698783;
const D1 = 0.007784695709041462, D2 = 0.3224671290700398, D3 = 2.445134137142996, D4 = 3.754408661907416;

/** Φ⁻¹(u) for 0 < u < 1 (Acklam 2003). */
export function normalQuantileFast(u: number): number {
  if (u < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(u));
    return (((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) / ((((D1 * q + D2) * q + D3) * q + D4) * q + 1);
  }
  if (u > 1 - 0.02425) {
    const q = Math.sqrt(-2 * Math.log(1 - u));
    return -(((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) / ((((D1 * q + D2) * q + D3) * q + D4) * q + 1);
  }
  const q = u - 0.5;
  const r = q * q;
  return ((((((A1 * r + A2) * r + A3) * r + A4) * r + A5) * r + A6) * q) / (((((B1 * r + B2) * r + B3) * r + B4) * r + B5) * r + 1);
}

/**
 * Paulson's approximation for one Beta(a, b), written on ρ = ∛(x/(1−x)): with k = ∛(b/a),
 * z(ρ) = (p1·ρ − p2) / √(p3·ρ² + p4), p1 = (1 − 1/(9b))·k, p2 = 1 − 1/(9a), p3 = k²/(9b), p4 = 1/(9a).
 */
export interface Paulson {
  p1: number;
  p2: number;
  p3: number;
  p4: number;
}

export function paulsonOf(a: number, b: number): Paulson {
  const k = Math.cbrt(b / a);
  return { p1: (1 - 1 / (9 * b)) * k, p2: 1 - 1 / (9 * a), p3: (k * k) / (9 * b), p4: 1 / (9 * a) };
}

/** The deviate at ρ. */
function zAt(p1: number, p2: number, p3: number, p4: number, rho: number): number {
  return (p1 * rho - p2) / Math.sqrt(p3 * rho * rho + p4);
}

/**
 * The inverse: the x whose deviate is z, or 0 / 1 where the approximation has no such x (for small
 * shapes its deviate is bounded: such z lie in the mass it puts at the ends).
 */
function xAt(p1: number, p2: number, p3: number, p4: number, z: number): number {
  // (p1² − z²p3)ρ² − 2·p1·p2·ρ + p2² − z²p4 = 0, taking the root on the side of the median (ρ = p2/p1).
  const z2 = z * z;
  const lead = p1 * p1 - z2 * p3;
  const half = p1 * p2;
  let disc = half * half - lead * (p2 * p2 - z2 * p4);
  if (disc < 0) {
    // At z ≈ 0 the root is double and rounding can make disc a hair negative.
    if (disc > -1e-12 * half * half) disc = 0;
    else return z < 0 ? 0 : 1;
  }
  let rho: number;
  if (z < 0) {
    rho = lead > 0 ? (half - Math.sqrt(disc)) / lead : 0;
    if (!(rho > 0)) return 0;
  } else {
    if (lead <= 0) return 1;
    rho = (half + Math.sqrt(disc)) / lead;
  }
  const r = rho * rho * rho;
  return r / (1 + r);
}

/** Paulson's approximation of the Beta(a, b) CDF at x. */
export function betaCdfApprox(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const p = paulsonOf(a, b);
  return normalCdf(zAt(p.p1, p.p2, p.p3, p.p4, Math.cbrt(x / (1 - x))));
}

/** Paulson's approximation of the Beta(a, b) quantile at probability u. */
export function betaQuantileApprox(a: number, b: number, u: number): number {
  if (u <= 0) return 0;
  if (u >= 1) return 1;
  const p = paulsonOf(a, b);
  return xAt(p.p1, p.p2, p.p3, p.p4, normalQuantile(u, 0, 1));
}

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n; computed once per n). */
const legendre = new Map<number, { t: Float64Array; w: Float64Array }>();
export function gaussLegendre(n: number): { t: Float64Array; w: Float64Array } {
  let r = legendre.get(n);
  if (r) return r;
  const t = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    t[i] = -x;
    t[n - 1 - i] = x;
    w[i] = w[n - 1 - i] = 2 / ((1 - x * x) * dp * dp);
  }
  r = { t, w };
  legendre.set(n, r);
  return r;
}

// Per-arm constants (struct of arrays, reused across calls: the core is single-threaded, and this
// keeps the inner loop free of allocation and pointer chasing). PA/PB hold the shapes they were
// computed for: a call with the same posteriors (Thompson draws, then the propensity of the same
// decision) reuses them instead of another cube root and four divisions per arm.
let P1 = new Float64Array(0);
let P2 = new Float64Array(0);
let P3 = new Float64Array(0);
let P4 = new Float64Array(0);
let MEAN = new Float64Array(0);
let PA = new Float64Array(0);
let PB = new Float64Array(0);
let CONTENDERS = new Int32Array(0);

/** A Beta posterior's standard deviation. */
function sdOf(p: BetaParams): number {
  const n = p.alpha + p.beta;
  return Math.sqrt((p.alpha * p.beta) / (n * n * (n + 1)));
}

/** Fills the per-arm constants for arms[0..n). */
function prepare(arms: readonly BetaParams[]): void {
  const n = arms.length;
  if (P1.length < n) {
    const size = Math.max(n, 2 * P1.length);
    P1 = new Float64Array(size);
    P2 = new Float64Array(size);
    P3 = new Float64Array(size);
    P4 = new Float64Array(size);
    MEAN = new Float64Array(size);
    PA = new Float64Array(size).fill(NaN);
    PB = new Float64Array(size).fill(NaN);
    CONTENDERS = new Int32Array(size);
  }
  for (let j = 0; j < n; j++) {
    const a = arms[j]!.alpha;
    const b = arms[j]!.beta;
    if (PA[j] === a && PB[j] === b) continue;
    const k = Math.cbrt(b / a);
    P1[j] = (1 - 1 / (9 * b)) * k;
    P2[j] = 1 - 1 / (9 * a);
    P3[j] = (k * k) / (9 * b);
    P4[j] = 1 / (9 * a);
    MEAN[j] = a / (a + b);
    PA[j] = a;
    PB[j] = b;
  }
}

/**
 * Thompson sampling's scores: one draw per arm from Paulson's approximation of its Beta posterior
 * (the quantile at a uniform: Φ⁻¹ then the closed-form inverse), written into `scores`; returns the
 * index of the largest. The policy draws from the same distribution the propensity integrates, so the
 * propensity it reports is the probability of what it actually does, up to the quadrature's error
 * alone (propensity.test.ts), instead of also carrying Paulson's CDF error against exact Beta draws
 * (up to 0.012 for shapes near 1). It is also 3× cheaper than Cheng's exact sampler: 3.4 vs 10.7 µs
 * for 51 arms (bench/decide.bench.ts posteriors, α ≈ 0.4–2, β ≈ 19), a third of decide() at 50
 * promotions. One uniform per arm, in arm order, so a seeded rng replays exactly.
 *
 * A shape at or below 1/9 (an arm that never converted across thousands of decisions: α ≈ m/n) makes
 * Paulson's formula meaningless (1 − 1/(9a) ≤ 0): such an arm is drawn exactly (Cheng's sampler, a
 * draw near 0 or near 1), and the integral, where that arm's deviate is off the table, counts it
 * as never above (α) or always above (β) the others, which is what its exact draws do.
 */
export function paulsonChoose(arms: readonly BetaParams[], rng: Rng, scores: number[]): number {
  prepare(arms);
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < arms.length; i++) {
    const s = P2[i]! > 0 && P1[i]! > 0 ? drawAt(i, rng.next()) : sampleBeta(arms[i]!.alpha, arms[i]!.beta, rng);
    scores[i] = s;
    if (s > bestScore) {
      bestScore = s;
      best = i;
    }
  }
  return best;
}

/** The draw of prepared arm j at uniform u ∈ [0, 1). */
function drawAt(j: number, u: number): number {
  return u <= 0 ? 0 : xAt(P1[j]!, P2[j]!, P3[j]!, P4[j]!, normalQuantileFast(u));
}

/** Whether Paulson's approximation is usable for these constants (both shapes above 1/9). */
export function paulsonUsable(p: Paulson): boolean {
  return p.p1 > 0 && p.p2 > 0;
}

/** Paulson's approximate Beta quantile at u ∈ [0, 1) (what paulsonChoose draws per arm, at a uniform u). */
export function paulsonQuantile(p: Paulson, u: number): number {
  return u <= 0 ? 0 : xAt(p.p1, p.p2, p.p3, p.p4, normalQuantileFast(u));
}

/**
 * P(Thompson sampling picks arm `index` among `arms`), each arm's score being one draw from its
 * posterior as paulsonChoose draws it, by Gauss–Legendre integration with `nodes` nodes (see the top
 * of this file). Deterministic: it draws nothing. Floored at PROPENSITY_FLOOR and capped at 1.
 */
export function thompsonPropensityQuad(arms: readonly BetaParams[], index: number, nodes = 12): number {
  const n = arms.length;
  if (n === 1) return 1;
  prepare(arms);
  let top = -1;
  for (let j = 0; j < n; j++) if (j !== index && (top < 0 || MEAN[j]! > MEAN[top]!)) top = j;
  // xLo: the highest 1e-7 quantile among the other arms; below it some other arm is almost surely
  // above x, so nothing there contributes. A quantile lies below its mean: arms whose mean is under
  // the running xLo cannot raise it and are skipped (most of them, once the top arm is done).
  let xLo = xAt(P1[top]!, P2[top]!, P3[top]!, P4[top]!, -Z_EDGE);
  for (let j = 0; j < n; j++) {
    if (j === index || j === top || MEAN[j]! <= xLo) continue;
    const q = xAt(P1[j]!, P2[j]!, P3[j]!, P4[j]!, -Z_EDGE);
    if (q > xLo) xLo = q;
  }
  const m1 = P1[index]!;
  const m2 = P2[index]!;
  const m3 = P3[index]!;
  const m4 = P4[index]!;
  const zLo = xLo <= 0 ? -Z_EDGE : Math.max(-Z_EDGE, zAt(m1, m2, m3, m4, Math.cbrt(xLo / (1 - xLo))));
  if (zLo >= Z_EDGE) return PROPENSITY_FLOOR;
  // The arms that can be above x somewhere in the integral. Every node lies at x ≥ xLo, and an arm
  // whose upper edge (its 1 − 10⁻⁷ quantile) is at or below xLo has Φ(z_j) = 1 at every node (the
  // inner loop below skips it each time): leave it out once, here. The result is the same (up to
  // rounding at that edge, where Φ = 1 − 10⁻⁷). It pays where arms are sharp and far apart; on the
  // decide benchmark's wide segment posteriors (α ≈ 1, β ≈ 19) it took 10.9 → 8.5 µs at 50 arms.
  // Only for p2 > 0 (shape a > 1/9), where z_j rises with x, so "above its edge at xLo" holds beyond.
  let nc = 0;
  for (let j = 0; j < n; j++) {
    if (j === index) continue;
    if (MEAN[j]! <= xLo && P2[j]! > 0 && xAt(P1[j]!, P2[j]!, P3[j]!, P4[j]!, Z_EDGE) <= xLo) continue;
    CONTENDERS[nc++] = j;
  }
  // The arm with the highest posterior mean (the one Thompson sampling picks most of the time) has a
  // smooth integrand: half the nodes give it the same accuracy (measured over 23 learned and
  // hand-made contexts: worst relative error 1.0% with 6 nodes, 1.3% with 12; propensity.test.ts
  // holds it to 3%), and it is most decisions, so this halves the average cost. Not when a contender
  // is far sharper than it (sd under a quarter of its own): that arm's CDF is a step inside the range,
  // which 6 nodes miss (a cold arm against Beta(500, 4500): 0.886 with 6 nodes, 0.874 with 12 and
  // with the policy's own pick frequencies).
  let k = nodes;
  if (MEAN[index]! >= MEAN[top]!) {
    const sdIndex = sdOf(arms[index]!);
    let sharp = false;
    for (let c = 0; c < nc && !sharp; c++) sharp = 4 * sdOf(arms[CONTENDERS[c]!]!) < sdIndex;
    if (!sharp) k = Math.max(6, Math.ceil(nodes / 2));
  }
  const { t, w } = gaussLegendre(k);
  // Two parametrisations of the same integral, for the two shapes it takes:
  // - an arm that can win in the bulk of its posterior (zLo < 0): over u = Φ(z) ∈ [Φ(zLo), 1], where
  //   the integrand G(Q_i(u)) is a smooth climb from 0 to about 1;
  // - an arm that wins only in its upper tail (zLo ≥ 0): over z ∈ [zLo, Z_EDGE] with weight φ(z),
  //   a short interval with the mass near its start, where u-nodes would crowd into u ≈ 1 too late.
  const inU = zLo < 0;
  const lo = inU ? normalCdf(zLo) : zLo;
  const span = inU ? 1 - lo : Z_EDGE - zLo;
  let sum = 0;
  for (let q = 0; q < k; q++) {
    const v = lo + (span * (t[q]! + 1)) / 2;
    const z = inU ? normalQuantileFast(v) : v;
    const x = xAt(m1, m2, m3, m4, z);
    if (x <= 0) continue;
    let g = inU ? 1 : 0.3989422804014327 * Math.exp(-0.5 * z * z);
    if (x < 1) {
      const rho = Math.cbrt(x / (1 - x));
      const rho2 = rho * rho;
      for (let c = 0; c < nc; c++) {
        const j = CONTENDERS[c]!;
        const zj = (P1[j]! * rho - P2[j]!) / Math.sqrt(P3[j]! * rho2 + P4[j]!);
        if (zj >= Z_EDGE) continue;
        if (zj <= -Z_EDGE) {
          g = 0;
          break;
        }
        g *= phi(zj);
        // The node's contribution is already below 1e-12 of the span: stop multiplying.
        if (g < 1e-12) {
          g = 0;
          break;
        }
      }
    }
    sum += w[q]! * g;
  }
  const p = (sum * span) / 2;
  return p < PROPENSITY_FLOOR ? PROPENSITY_FLOOR : p > 1 ? 1 : p;
}
