// Credentials and TLS to NATS come from config/env, work against a real server, and never reach a log.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import type { Running } from "../../src/system.ts";
import { jetstreamServer, type NatsServerHandle } from "../support/nats-server.ts";
import { startParts, waitFor } from "../support/system.ts";

let server: NatsServerHandle | undefined;
let sys: Running | undefined;
afterEach(async () => {
  await sys?.stop();
  await server?.stop();
  sys = server = undefined;
});

const PASSWORD = "pw-Zq8v3-never-logged";
const TOKEN = "tok-7Yt2-never-logged";

async function runAndCheck(env: Record<string, string>, secret: string): Promise<void> {
  const logs: string[] = [];
  const cfg = loadConfig({ env: { ...env, PORT: "0", LOG_LEVEL: "debug" }, overrides: { simulator: { speed: 50 } } });
  sys = await startParts("all", cfg, logs);
  await waitFor("decisions through the authenticated connection", () => (sys!.processor!.kpi.decisions > 5 ? true : undefined));
  expect(logs.length).toBeGreaterThan(5);
  expect(logs.join("\n")).not.toContain(secret);
}

describe("NATS credentials and TLS", () => {
  it("user and password from NATS_USER / NATS_PASS", async () => {
    server = await jetstreamServer({ extraConf: `authorization { user: "ps", password: "${PASSWORD}" }` });
    await runAndCheck({ NATS_URL: server.url, NATS_USER: "ps", NATS_PASS: PASSWORD }, PASSWORD);
  });

  it("a token from NATS_TOKEN", async () => {
    server = await jetstreamServer({ extraConf: `authorization { token: "${TOKEN}" }` });
    await runAndCheck({ NATS_URL: server.url, NATS_TOKEN: TOKEN }, TOKEN);
  });

  it("a wrong password fails with a clear message that does not echo it", async () => {
    server = await jetstreamServer({ extraConf: `authorization { user: "ps", password: "${PASSWORD}" }` });
    const cfg = loadConfig({ env: { NATS_URL: server.url, NATS_USER: "ps", NATS_PASS: "wrong-pass-123", PORT: "0", LOG_LEVEL: "silent" } });
    const err = await startParts("processor", cfg).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*fix:/);
    expect(err?.message).not.toContain("wrong-pass-123");
  });

  it("a tls:// URL to a server without TLS is refused, not dialled in plain text", async () => {
    // nats.js strips the scheme from a server URL: tls:// alone did not ask for TLS, and the
    // credentials and the shop's events went over the wire unencrypted.
    server = await jetstreamServer({ extraConf: `authorization { token: "${TOKEN}" }` });
    const cfg = loadConfig({ env: { NATS_URL: server.url.replace("nats://", "tls://"), NATS_TOKEN: TOKEN, PORT: "0", LOG_LEVEL: "silent" } });
    const err = await startParts("processor", cfg).then(
      (running) => {
        sys = running;
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err, "the processor started over a plain-text connection").toBeDefined();
    expect(err?.message).toMatch(/cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .*tls.*fix:/);
  });

  it("TLS with a CA from NATS_TLS_CA", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-tls-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=promo-stream test CA");
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf");
    server = await jetstreamServer({ extraConf: `tls { cert_file: "${join(dir, "server.pem")}", key_file: "${join(dir, "server.key")}" }` });
    await runAndCheck({ NATS_URL: server.url.replace("nats://", "tls://"), NATS_TLS: "true", NATS_TLS_CA: join(dir, "ca.pem") }, "BEGIN PRIVATE KEY");
  });
});
