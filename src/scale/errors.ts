export const PS_ERR_SCALE = {
  /** A KV record kept changing under every compare-and-set attempt: others won each time. */
  CasConflict: "PS_ERR_SCALE_CAS_CONFLICT",
  /** The KV did not answer (timeout, connection closed, no JetStream): not a conflict, nothing was decided. */
  KvUnavailable: "PS_ERR_SCALE_KV_UNAVAILABLE",
} as const;
export type ScaleErrorCode = (typeof PS_ERR_SCALE)[keyof typeof PS_ERR_SCALE];

export class ScaleError extends Error {
  readonly code: ScaleErrorCode;
  constructor(code: ScaleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScaleError";
    this.code = code;
  }
}

export class CasConflictError extends ScaleError {
  constructor(key: string, attempts: number) {
    super(PS_ERR_SCALE.CasConflict, `KV record ${key} kept changing under ${attempts} compare-and-set attempts`);
    this.name = "CasConflictError";
  }
}
