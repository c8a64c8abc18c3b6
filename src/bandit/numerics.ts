// Numerical building blocks of the policy's draws and propensities: Φ, Φ⁻¹, Gauss–Legendre nodes and
// the logistic function. Hand-written for speed: they run nodes × arms times per decision, and the
// general-purpose versions (erfc, @stdlib's quantile via erfinv) cost more than the rest of a 5-arm
// decision in the profile. Pure functions and read-only tables: no mutable module state.

/** |z| beyond which Φ is taken as 0 or 1 (Φ(−5.2) ≈ 1e-7). */
export const Z_EDGE = 5.2;

/** 1/√(2π). */
export const INV_SQRT_2PI = 0.3989422804014327;

/** Φ(z) by Zelen & Severo (1964), Abramowitz & Stegun 26.2.17: absolute error below 7.5·10⁻⁸. */
export function normalCdf(z: number): number {
  const x = z < 0 ? -z : z;
  const t = 1 / (1 + 0.2316419 * x);
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = INV_SQRT_2PI * Math.exp(-0.5 * x * x) * poly;
  return z < 0 ? tail : 1 - tail;
}

// Φ on [−Z_EDGE, Z_EDGE] by linear interpolation in a table: a table read is several times cheaper
// than the exp inside normalCdf. Interpolation error ≤ h²/8 · max|φ'| = (10.4/4096)²/8 · 0.242 ≈ 2·10⁻⁷.
const PHI_CELLS = 4096;
const PHI_SCALE = PHI_CELLS / (2 * Z_EDGE);
const PHI: Float64Array = (() => {
  const t = new Float64Array(PHI_CELLS + 2);
  for (let i = 0; i < t.length; i++) t[i] = normalCdf(-Z_EDGE + i / PHI_SCALE);
  return t;
})();

/** Φ(z) from the table, 0 below −Z_EDGE and 1 above Z_EDGE. */
export function normalCdfFast(z: number): number {
  if (z <= -Z_EDGE) return 0;
  if (z >= Z_EDGE) return 1;
  const f = (z + Z_EDGE) * PHI_SCALE;
  const i = f | 0;
  const lo = PHI[i]!;
  return lo + (PHI[i + 1]! - lo) * (f - i);
}

// Acklam's rational approximation of Φ⁻¹ (relative error below 1.2·10⁻⁹).
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

/** The logistic function 1 / (1 + e^−x). */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** log(p / (1 − p)). */
export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n), computed once per n into a frozen cache. */
const legendre = new Map<number, { t: Float64Array; w: Float64Array }>();
export function gaussLegendre(n: number): { readonly t: Float64Array; readonly w: Float64Array } {
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
