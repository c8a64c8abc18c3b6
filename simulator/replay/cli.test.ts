// The replay command's argument and environment errors. No server: the unreachable case connects
// to a port nobody listens on, a real refused connection.
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseReplayArgs, replayCli } from "./cli.ts";
import { PS_ERR_REPLAY, ReplayError } from "./errors.ts";

const HILLSTROM = "/work/shared/datasets/hillstrom/hillstrom-dev.csv";

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), text: () => chunks.join("") };
}

async function run(args: string[], env: Record<string, string>) {
  const out = capture();
  const err = capture();
  const code = await replayCli(args, { env, stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A TCP port that was free a moment ago (listened on, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("parseReplayArgs", () => {
  it("reads format, speed, buffer, start and the file", () => {
    expect(parseReplayArgs(["--format", "hillstrom", "--speed", "3600", "--buffer", "10", "--start", "2010-01-01T00:00:00Z", "f.csv"])).toEqual({
      format: "hillstrom",
      speed: 3600,
      bufferEvents: 10,
      startMs: Date.UTC(2010, 0, 1),
      file: "f.csv",
    });
    expect(parseReplayArgs(["--format=seed-clickstream", "f.csv"])).toMatchObject({ speed: "max", bufferEvents: 100_000, startMs: undefined });
    expect(parseReplayArgs(["--format", "seed-clickstream", "--speed", "max", "f.csv"]).speed).toBe("max");
  });

  it.each([
    [["f.csv"], /--format is required: one of seed-clickstream, hillstrom/],
    [["--format", "parquet", "f.csv"], /unknown --format 'parquet'/],
    [["--format", "hillstrom"], /FILE is missing/],
    [["--format", "hillstrom", "a.csv", "b.csv"], /one FILE expected, got 2/],
    [["--format", "hillstrom", "--speed", "0", "f.csv"], /--speed must be a positive number or max, got '0'/],
    [["--format", "hillstrom", "--speed", "fast", "f.csv"], /--speed must be/],
    [["--format", "hillstrom", "--buffer", "1.5", "f.csv"], /--buffer must be a whole number/],
    [["--format", "hillstrom", "--start", "1990-01-01", "f.csv"], /--start must be a time between 2000 and 2100/],
    [["--format", "hillstrom", "--sped", "2", "f.csv"], /Unknown option '--sped'/],
  ])("refuses %j with a usage error saying what is wrong", (args, why) => {
    let err: unknown;
    try {
      parseReplayArgs(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe(PS_ERR_REPLAY.Usage);
    expect((err as Error).message).toMatch(why);
  });
});

describe("replayCli", () => {
  it("exits 2 with the usage on a bad command line", async () => {
    const r = await run(["--format", "nope", "x.csv"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown --format 'nope'");
    expect(r.stderr).toContain("usage: npm run simulator -- replay");
    expect(r.stdout).toBe("");
  });

  it("prints the usage and exits 0 on --help", async () => {
    const r = await run(["--help"], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("usage: npm run simulator -- replay");
  });

  it("fails clearly, naming NATS_URL, when it is not set", async () => {
    const r = await run(["--format", "hillstrom", HILLSTROM], { LOG_LEVEL: "silent" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NATS_URL is not set: replay publishes to a running NATS server/);
  });

  it("fails clearly, naming NATS_URL and the address, when nothing answers there", async () => {
    const port = await closedPort();
    const r = await run(["--format", "hillstrom", HILLSTROM], { NATS_URL: `nats://127.0.0.1:${port}`, LOG_LEVEL: "silent" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach NATS at nats://127.0.0.1:${port} (NATS_URL)`);
  });

  it("fails clearly when the file cannot be read, before connecting", async () => {
    const r = await run(["--format", "hillstrom", "/nonexistent/log.csv"], { LOG_LEVEL: "silent" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read /nonexistent/log.csv: ENOENT");
  });
});
