// A sim.control command as the server relays it (POST /api/sim, the dashboard's {"type":"sim"} frames).
// The server forwards only the command's name and its one scalar value, built anew: the request's body
// went to the simulator as it came, and a deeply nested one (5,000 levels) made JSON.stringify overflow
// the stack, answered 503 "simulator did not answer: Maximum call stack size exceeded" though nothing
// had been asked. The simulator's commands take a name and at most a number or a string
// (simulator/runner.ts parseCommand), which the simulator checks further; nothing relayed nests.

/** What the server sends on sim.control. */
export interface SimCommand {
  cmd: string;
  value?: string | number | boolean | null;
}

const EXAMPLE = '{"cmd":"speed","value":10}';

/** The command to relay, or why the request is not one (for a 400, or the socket's sim-reply). */
export function simCommand(raw: unknown): SimCommand | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return `body must be a JSON object like ${EXAMPLE}`;
  const { cmd, value } = raw as { cmd?: unknown; value?: unknown };
  if (typeof cmd !== "string") return `cmd must be a string naming a simulator command, e.g. ${EXAMPLE}`;
  if (value === undefined) return { cmd };
  if (typeof value === "object" && value !== null) return `value must be a number or a string, e.g. ${EXAMPLE}, not ${Array.isArray(value) ? "an array" : "an object"}`;
  return { cmd, value: value as string | number | boolean | null };
}
