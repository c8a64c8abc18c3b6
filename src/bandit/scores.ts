// Each arm's score distribution for one decision: score_j = s_j · X_j, where s_j > 0 is the arm's
// scale (the margin if bought, in cents, or 1 when the objective is conversion) and X_j ∈ (0, 1) its
// conversion probability as the posterior sees it. X_j is written through a normal deviate z:
// X_j = x_j(z) with z ~ N(0, 1), so a draw is x_j(Φ⁻¹(u)) and the CDF is F_j(x) = Φ(z_j(x)).
// Two families:
//   Beta(α, β) (the tabular model), through Paulson's approximation (paulson.ts): x_j, z_j closed form;
//   logit-normal (the logistic model): X = σ(μ + σ·z), so x_j(z) = σ(μ + σz), z_j(x) = (logit x − μ)/σ.
// A Beta with a shape at or below 1/9 (an arm that never or always converted over thousands of
// decisions) is outside Paulson's range: it is drawn exactly (Cheng's sampler, a draw near 0 or 1)
// and taken as a point mass at 0 or 1 by the propensity.
//
// Struct of arrays, owned by whoever decides (an engine, a replay policy): reused across decisions
// without allocation, never shared between engines by accident (no module-level scratch).
import { paulsonX, paulsonZ } from "./paulson.ts";
import { Z_EDGE, logit, sigmoid } from "./numerics.ts";

export const DIST_BETA = 0;
/** A Beta with α ≤ 1/9: its draws are ≈ 0. */
export const DIST_BETA_LOW = 1;
/** A Beta with β ≤ 1/9: its draws are ≈ 1. */
export const DIST_BETA_HIGH = 2;
export const DIST_LOGIT = 3;

export class ScoreArms {
  n = 0;
  kind = new Uint8Array(0);
  scale = new Float64Array(0);
  /** Beta: α, β. Logit-normal: μ, σ. */
  a = new Float64Array(0);
  b = new Float64Array(0);
  /** Paulson's constants (Beta). */
  p1 = new Float64Array(0);
  p2 = new Float64Array(0);
  p3 = new Float64Array(0);
  p4 = new Float64Array(0);
  /**
   * centre(j), computed when the arm is set: the propensity reads it two or three times per arm and
   * per decision, each a sigmoid for a logit-normal arm (issue #16: ~4% of decide() at 50 arms).
   */
  private centres = new Float64Array(0);
  /** A logit-normal arm's σ(μ) (its centre over its scale), for spread(): the same value, computed once. */
  private sig = new Float64Array(0);

  /** Prepares for n arms (keeps the arrays when they are large enough). */
  reset(n: number): void {
    if (this.kind.length < n) {
      const size = Math.max(n, 2 * this.kind.length, 8);
      this.kind = new Uint8Array(size);
      this.scale = new Float64Array(size);
      this.a = new Float64Array(size);
      this.b = new Float64Array(size);
      this.p1 = new Float64Array(size);
      this.p2 = new Float64Array(size);
      this.p3 = new Float64Array(size);
      this.p4 = new Float64Array(size);
      this.centres = new Float64Array(size);
      this.sig = new Float64Array(size);
    }
    this.n = n;
  }

  /** Arm j: scale · Beta(α, β). */
  setBeta(j: number, alpha: number, beta: number, scale: number): void {
    this.scale[j] = scale;
    this.a[j] = alpha;
    this.b[j] = beta;
    if (alpha <= 1 / 9) {
      this.kind[j] = DIST_BETA_LOW;
      this.centres[j] = 0;
      return;
    }
    if (beta <= 1 / 9) {
      this.kind[j] = DIST_BETA_HIGH;
      this.centres[j] = scale;
      return;
    }
    this.kind[j] = DIST_BETA;
    this.centres[j] = (scale * alpha) / (alpha + beta);
    const k = Math.cbrt(beta / alpha);
    this.p1[j] = (1 - 1 / (9 * beta)) * k;
    this.p2[j] = 1 - 1 / (9 * alpha);
    this.p3[j] = (k * k) / (9 * beta);
    this.p4[j] = 1 / (9 * alpha);
  }

  /** Arm j: scale · σ(μ + σ·Z). */
  setLogit(j: number, mu: number, sd: number, scale: number): void {
    this.kind[j] = DIST_LOGIT;
    this.scale[j] = scale;
    this.a[j] = mu;
    this.b[j] = sd > 1e-9 ? sd : 1e-9;
    const p = sigmoid(mu);
    this.sig[j] = p;
    this.centres[j] = scale * p;
  }

  /** X_j at the normal deviate z (its quantile at Φ(z)). Point masses give 0 or 1. */
  x(j: number, z: number): number {
    switch (this.kind[j]) {
      case DIST_LOGIT:
        return sigmoid(this.a[j]! + this.b[j]! * z);
      case DIST_BETA:
        return paulsonX(this.p1[j]!, this.p2[j]!, this.p3[j]!, this.p4[j]!, z);
      case DIST_BETA_LOW:
        return 0;
      default:
        return 1;
    }
  }

  /** The deviate at which X_j equals t ∈ (0, 1): F_j(t) = Φ(z_j(t)). Point masses: ±∞. */
  z(j: number, t: number): number {
    switch (this.kind[j]) {
      case DIST_LOGIT:
        return (logit(t) - this.a[j]!) / this.b[j]!;
      case DIST_BETA:
        return paulsonZ(this.p1[j]!, this.p2[j]!, this.p3[j]!, this.p4[j]!, Math.cbrt(t / (1 - t)));
      case DIST_BETA_LOW:
        return Infinity;
      default:
        return -Infinity;
    }
  }

  /**
   * The mean of X_j: α/(α+β) for a Beta; for the logit-normal, the probit approximation
   * σ(μ/√(1 + πσ²/8)) (MacKay 1992).
   */
  meanX(j: number): number {
    switch (this.kind[j]) {
      case DIST_LOGIT:
        return sigmoid(this.a[j]! / Math.sqrt(1 + (Math.PI * this.b[j]! * this.b[j]!) / 8));
      default:
        // (Point masses too: their α/(α+β) is the Beta's own mean, near 0 or 1.)
        return this.a[j]! / (this.a[j]! + this.b[j]!);
    }
  }

  /** A central value of the score (for ordering arms): scale × the mean (Beta) or median (logit) of X_j. */
  centre(j: number): number {
    return this.centres[j]!;
  }

  /** An approximate standard deviation of the score (delta method for the logit-normal). */
  spread(j: number): number {
    switch (this.kind[j]) {
      case DIST_LOGIT: {
        const p = this.sig[j]!;
        return this.scale[j]! * this.b[j]! * p * (1 - p);
      }
      case DIST_BETA: {
        const a = this.a[j]!;
        const b = this.b[j]!;
        const n = a + b;
        return this.scale[j]! * Math.sqrt((a * b) / (n * n * (n + 1)));
      }
      default:
        return 0;
    }
  }

  /** The lowest and highest scores arm j reaches in practice (its deviates ∓Z_EDGE). */
  lowScore(j: number): number {
    return this.scale[j]! * this.x(j, -Z_EDGE);
  }
  highScore(j: number): number {
    return this.scale[j]! * this.x(j, Z_EDGE);
  }
}
