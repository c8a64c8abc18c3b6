export const PS_ERR_SERVER = {
  /** The HTTP port is taken by another process. */
  PortInUse: "PS_ERR_SERVER_PORT_IN_USE",
  /** The listen address is not one of this machine's, or its name does not resolve. */
  HostUnavailable: "PS_ERR_SERVER_HOST_UNAVAILABLE",
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

/** Errors of listen() that mean the address itself is wrong: not this machine's, or a name that does not resolve. */
const HOST_ERRORS = new Set(["EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN", "EAI_NONAME"]);

/**
 * Listening failed because the port is taken (say which and the env var to set), or because the host
 * (server.host, which every part listens on) cannot be listened on; anything else is returned as it is.
 */
export function portInUse(err: unknown, host: string, port: number, envVar: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code !== undefined && HOST_ERRORS.has(code))
    return new ServerError(
      PS_ERR_SERVER.HostUnavailable,
      `server.host (env HOST): cannot listen on ${host} (${code}: ${code === "EADDRNOTAVAIL" ? "not an address of this machine" : "the name does not resolve"}); fix: set HOST to an address of this machine, e.g. 127.0.0.1, or 0.0.0.0 for all (with API_TOKEN)`,
      { cause: err },
    );
  if (code !== "EADDRINUSE") return err;
  return new ServerError(PS_ERR_SERVER.PortInUse, `port ${port} on ${host} is in use; fix: set ${envVar} to a free port`, { cause: err });
}
