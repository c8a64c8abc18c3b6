export const PS_ERR_FEATURES = {
  /**
   * A customer store part of a format this build does not read (its header's version): one above this
   * build's was written by a newer build (a rollback), not damaged. The engine's restore reports it as
   * the checkpoint's PS_ERR_STATE_VERSION.
   */
  PartVersion: "PS_ERR_FEATURES_PART_VERSION",
} as const;
export type FeaturesErrorCode = (typeof PS_ERR_FEATURES)[keyof typeof PS_ERR_FEATURES];

export class FeaturesError extends Error {
  readonly code: FeaturesErrorCode;
  /** PartVersion: the version found, and the versions this build reads. */
  readonly version: number | undefined;
  readonly readable: readonly number[] | undefined;
  constructor(code: FeaturesErrorCode, message: string, options?: { cause?: unknown; version?: number; readable?: readonly number[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FeaturesError";
    this.code = code;
    this.version = options?.version;
    this.readable = options?.readable;
  }
}
