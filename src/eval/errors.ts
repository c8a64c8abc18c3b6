/** Stable codes for evaluation failures: callers branch on `code`, never on message text. */
export const PS_ERR_EVAL = {
  Usage: "PS_ERR_EVAL_USAGE",
  DataUnreadable: "PS_ERR_EVAL_DATA_UNREADABLE",
  DataInvalid: "PS_ERR_EVAL_DATA_INVALID",
  ConfigInvalid: "PS_ERR_EVAL_CONFIG_INVALID",
} as const;
export type EvalErrorCode = (typeof PS_ERR_EVAL)[keyof typeof PS_ERR_EVAL];

export class EvalError extends Error {
  readonly code: EvalErrorCode;
  constructor(code: EvalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EvalError";
    this.code = code;
  }
}
