// A WebSocket message that is JSON but no object (`null`) is answered with an error frame like any unknown
// message. Reading `msg.type` of null used to throw in ws's 'message' listener, uncaught: the server
// process exited. Any page (no token needed when API_TOKEN is unset, the default) could stop it with one
// frame, and with npm start the processor and the simulator with it.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { configFile, spawnPart, type Child } from "../support/processes.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/system.ts";

let nats: NatsServerHandle | undefined;
let part: Child | undefined;

afterEach(async () => {
  if (part && part.child.exitCode === null) {
    part.signal("SIGKILL");
    await part.exited;
  }
  await nats?.stop();
  nats = part = undefined;
});

describe("the WebSocket", { timeout: 60_000 }, () => {
  it("answers a `null` message with an error frame, and the server keeps running", async () => {
    nats = await jetstreamServer();
    const port = await freePort();
    part = spawnPart("server", { NATS_URL: nats.url, PORT: String(port), CONFIG_FILE: configFile({}) });
    const base = `http://127.0.0.1:${port}`;
    await waitFor("the server listening", async () => (await fetch(`${base}/api/clock`)).ok, 30_000, 200);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const frames: { type?: string }[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    ws.on("error", () => undefined);
    await new Promise((r) => ws.once("open", r));
    ws.send("null");
    await waitFor("an error frame or the socket gone", () => frames.some((f) => f.type === "error") || ws.readyState !== WebSocket.OPEN, 5_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(part.child.exitCode, part.output().split("\n").filter((l) => /TypeError|Error/.test(l)).slice(0, 3).join("\n")).toBeNull();
    expect((await fetch(`${base}/api/clock`)).status).toBe(200);
    expect(frames.some((f) => f.type === "error")).toBe(true);
    ws.close();
  });
});
