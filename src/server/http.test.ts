// The HTTP servers' shared settings and answers, on a bare node:http server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { rawExchange } from "../../test/support/raw-http.ts";
import { answerClientErrors } from "./http.ts";

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  server = createServer(handler);
  answerClientErrors(server);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

/** What came back for `request` (then `later`) before the connection closed, or 3 s passed. */
const exchange = async (port: number, request: string, later?: string): Promise<string> => (await rawExchange(port, request, { later })).out;

describe("answerClientErrors", () => {
  it("answers a malformed request 400 with a short JSON and closes", async () => {
    const port = await listen((_req, res) => res.end("ok"));
    const out = await exchange(port, "NOT A REQUEST\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toMatch(/\r\nconnection: close\r\n/i);
    const body = out.slice(out.indexOf("\r\n\r\n") + 4);
    expect(out).toMatch(new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}\\r\\n`, "i"));
    expect(JSON.parse(body)).toEqual({ error: expect.stringMatching(/malformed/) });
  });

  it("answers 431 to headers over Node's limit", async () => {
    const port = await listen((_req, res) => res.end("ok"));
    const out = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4))).toEqual({ error: expect.stringMatching(/headers/) });
  });

  it("writes nothing into a response already under way: the connection is only closed", async () => {
    // The first request's answer has its headers out and its body still coming when a malformed second
    // request arrives on the same connection: a 400 written then would land inside the first answer.
    const port = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "10" });
      res.write("12345");
      setTimeout(() => res.end("67890"), 500).unref();
    });
    const out = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "NOT A REQUEST\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n12345$/);
  });

  it("answers the malformed request that follows a finished answer", async () => {
    const port = await listen((_req, res) => res.end("ok"));
    const out = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "NOT A REQUEST\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok[^]*HTTP\/1\.1 400 Bad Request\r\n/);
  });
});
