import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { portInUse, PS_ERR_SERVER, ServerError } from "./errors.ts";

/** What listen() fails with on this host and port. */
function listenError(host: string, port = 0): Promise<unknown> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", resolve);
    s.listen(port, host, () => s.close(() => resolve(undefined)));
  });
}

describe("portInUse", () => {
  it("names the port's env variable when the port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    const err = portInUse(await listenError("127.0.0.1", port), "127.0.0.1", port, "PORT");
    taken.close();
    expect(err).toMatchObject({ code: PS_ERR_SERVER.PortInUse, message: expect.stringContaining("fix: set PORT to a free port") });
  });

  // The host is server.host for every listener (the dashboard's and a processor's /metrics): only
  // EADDRINUSE was translated, and these surfaced as a bare "listen EADDRNOTAVAIL".
  it.each([
    ["an address not of this machine", "192.0.2.1", "EADDRNOTAVAIL"],
    ["a name that does not resolve", "nonexistent.invalid", /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME)$/],
  ])("names server.host (env HOST) for %s", async (_name, host, code) => {
    const raw = await listenError(host);
    expect((raw as NodeJS.ErrnoException).code).toMatch(code);
    const err = portInUse(raw, host, 8080, "PORT");
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: PS_ERR_SERVER.HostUnavailable, message: expect.stringMatching(/^server\.host \(env HOST\): cannot listen on .*; fix: set HOST to an address of this machine/) });
  });

  it("returns any other error as it is", () => {
    const other = Object.assign(new Error("denied"), { code: "EACCES" });
    expect(portInUse(other, "127.0.0.1", 80, "PORT")).toBe(other);
  });
});
