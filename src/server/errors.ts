export const PS_ERR_SERVER = {
  /** The HTTP port is taken by another process. */
  PortInUse: "PS_ERR_SERVER_PORT_IN_USE",
} as const;
export type ServerErrorCode = (typeof PS_ERR_SERVER)[keyof typeof PS_ERR_SERVER];

export class ServerError extends Error {
  readonly code: ServerErrorCode;
  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServerError";
    this.code = code;
  }
}

/** Listening failed because the port is taken: say which and how to fix it (the env var to set). */
export function portInUse(err: unknown, host: string, port: number, envVar: string): unknown {
  if ((err as NodeJS.ErrnoException)?.code !== "EADDRINUSE") return err;
  return new ServerError(PS_ERR_SERVER.PortInUse, `port ${port} on ${host} is in use; fix: set ${envVar} to a free port`, { cause: err });
}
