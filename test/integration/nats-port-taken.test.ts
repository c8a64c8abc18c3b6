// NATS_PORT held by a program that is no NATS server (an HTTP server, a database): a part started without
// NATS_URL takes whatever listens on NATS_PORT for a NATS server already running there, and the connection
// fails. The error named NATS_URL ("check NATS_URL …, or unset NATS_URL"), which the operator had not set;
// it names NATS_PORT, the key to change.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawnPart } from "../support/processes.ts";

let squatter: Server;
let port: number;
beforeAll(async () => {
  // Accepts and says nothing, as an HTTP server does until it is asked.
  squatter = createServer(() => undefined);
  await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
  port = (squatter.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => squatter.close(r));
});

it("names NATS_PORT when what listens there is no NATS server", { timeout: 60_000 }, async () => {
  const c = spawnPart("processor", { NATS_URL: "", NATS_PORT: String(port) });
  const code = await c.exited;
  expect(code).toBe(1);
  expect(c.output()).toMatch(new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: .*fix: something listens on NATS_PORT \\(127\\.0\\.0\\.1:${port}\\) that does not answer as a NATS server; set NATS_PORT to a free port`));
  expect(c.output()).not.toMatch(/unset NATS_URL|at .*\.ts:\d+/);
});
