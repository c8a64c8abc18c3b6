export const PS_ERR_NATS = {
  ServerNotFound: "PS_ERR_NATS_SERVER_NOT_FOUND",
  ServerStart: "PS_ERR_NATS_SERVER_START",
  /** The server could not listen: its port is taken. */
  PortTaken: "PS_ERR_NATS_PORT_TAKEN",
  Connect: "PS_ERR_NATS_CONNECT",
  Provision: "PS_ERR_NATS_PROVISION",
} as const;
export type NatsErrorCode = (typeof PS_ERR_NATS)[keyof typeof PS_ERR_NATS];

export class NatsError extends Error {
  readonly code: NatsErrorCode;
  constructor(code: NatsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsError";
    this.code = code;
  }
}
