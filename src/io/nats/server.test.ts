import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NatsError, PS_ERR_NATS } from "./errors.ts";
import { freePorts } from "./cluster.ts";
import { startNatsServer } from "./server.ts";

describe("startNatsServer", () => {
  it("fails with PS_ERR_NATS_PORT_TAKEN, naming the port and the fix, when its port is in use", async () => {
    const [port] = await freePorts(1);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", r));
    try {
      const err = await startNatsServer({ port }).then(
        (s) => s.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NatsError);
      expect((err as NatsError).code).toBe(PS_ERR_NATS.PortTaken);
      expect((err as NatsError).message).toMatch(new RegExp(`port ${port} is taken: set NATS_PORT`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  // A store directory that cannot be made (a file on its path, a read-only disk) failed with the bare fs
  // error, naming no setting, and left an empty temp dir behind.
  it("fails with PS_ERR_NATS_SERVER_START naming NATS_STORE_DIR when the store cannot be made, leaving no temp dir", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "ps-store-test-"));
    const file = join(tmp, "a-file");
    writeFileSync(file, "");
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // os.tmpdir() reads it at each call: the server's temp dir would land here
    try {
      const err = await startNatsServer({ port: -1, storeDir: join(file, "nats") }).then(
        (s) => s.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NatsError);
      expect((err as NatsError).code).toBe(PS_ERR_NATS.ServerStart);
      expect((err as NatsError).message).toMatch(/^cannot make the JetStream store directory .*a-file\/nats \(NATS_STORE_DIR, nats\.storeDir\): ENOTDIR.*; fix: set NATS_STORE_DIR to a directory that can be written$/);
      expect(readdirSync(tmp)).toEqual(["a-file"]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  // NATS_PORT=0 means a free port, as PORT=0 does; nats-server reads `port: 0` as its default, 4222.
  it("takes port 0 for a free port, not nats-server's default 4222", async () => {
    const s = await startNatsServer({ port: 0 });
    try {
      expect(s.port).toBeGreaterThan(0);
      expect(s.port).not.toBe(4222);
    } finally {
      await s.stop();
    }
  });
});

describe("freePorts", () => {
  it("hands out distinct ports, all bindable", async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const p of ports) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.on("error", reject);
        s.listen(p, "127.0.0.1", resolve);
      });
      await new Promise((r) => s.close(r));
    }
  });
});
