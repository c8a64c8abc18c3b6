export const PS_ERR_STATE = {
  Corrupt: "PS_ERR_STATE_CORRUPT",
  Conflict: "PS_ERR_STATE_CONFLICT",
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
