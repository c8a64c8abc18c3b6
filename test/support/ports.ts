import { freePorts } from "../../src/io/nats/index.ts";

/** A TCP port that was free a moment ago (the OS picked it). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
