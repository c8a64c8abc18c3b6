// Typed errors of the replay tool (STYLE rule 5): callers branch on `code`, never on message text.
export const PS_ERR_REPLAY = {
  /** The command line is wrong: unknown option, missing FILE, bad --speed. */
  Usage: "PS_ERR_REPLAY_USAGE",
  /** NATS_URL is not set: replay never starts a server of its own. */
  NatsUrlUnset: "PS_ERR_REPLAY_NATS_URL_UNSET",
  /** The server at NATS_URL does not answer, or JetStream is not enabled there. */
  NatsUnreachable: "PS_ERR_REPLAY_NATS_UNREACHABLE",
  /** The file cannot be opened or read. */
  FileUnreadable: "PS_ERR_REPLAY_FILE_UNREADABLE",
  /** The file's header is not the one the format expects. */
  NotThisFormat: "PS_ERR_REPLAY_NOT_THIS_FORMAT",
} as const;
export type ReplayErrorCode = (typeof PS_ERR_REPLAY)[keyof typeof PS_ERR_REPLAY];

export class ReplayError extends Error {
  readonly code: ReplayErrorCode;
  constructor(code: ReplayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReplayError";
    this.code = code;
  }
}
