export const PS_ERR_STATE = {
  Corrupt: "PS_ERR_STATE_CORRUPT",
  /** Someone else moved the checkpoint's head (the revision check failed): another writer owns it. */
  Conflict: "PS_ERR_STATE_CONFLICT",
  /** The KV did not answer (timeout, connection closed): nothing is known about who owns it. */
  Unavailable: "PS_ERR_STATE_UNAVAILABLE",
  /**
   * The checkpoint is gone from under its writer: the head key deleted, or the whole bucket deleted
   * (and perhaps made again). No one else owns it: the next checkpoints write the whole state anew.
   */
  Gone: "PS_ERR_STATE_GONE",
  /**
   * The checkpoint was written in an engine state version this build does not read: by a newer build
   * (a rollback), or by one too old. Not damage: a build that reads it restores it.
   */
  Version: "PS_ERR_STATE_VERSION",
} as const;
export type StateErrorCode = (typeof PS_ERR_STATE)[keyof typeof PS_ERR_STATE];

export class StateError extends Error {
  readonly code: StateErrorCode;
  constructor(code: StateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateError";
    this.code = code;
  }
}
