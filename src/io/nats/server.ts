// Starts and stops a real nats-server with JetStream: the embedded server of `npm start`, the servers
// of integration tests and of the benchmarks. Written after the nats.js test launcher (nst): a config
// file with `port: -1` when no port is given, a ports file to learn the port, a TCP probe before use.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { NatsError, PS_ERR_NATS } from "./errors.ts";

export interface NatsServerOptions {
  binary?: string;
  host?: string;
  /** -1 (default) or 0 picks a free port (nats-server itself takes 0 for its default, 4222). */
  port?: number;
  /** JetStream store; a fresh temp dir when absent (deleted on stop). */
  storeDir?: string;
  /** Extra lines appended to the generated config (cluster blocks, limits, auth). */
  extraConf?: string;
  serverName?: string;
  startTimeoutMs?: number;
  /**
   * Run the server in a process group of its own, so a terminal's Ctrl-C (SIGINT to the whole
   * foreground group) does not reach it and the caller stops it last, after its own final writes
   * (issue 15). The caller must stop it: `stop()`, or the synchronous kill on process exit.
   */
  detached?: boolean;
  /** Runs the server through another command, e.g. `ip netns exec <ns>` (tests with real network partitions). */
  prefix?: readonly string[];
}

export interface NatsServerHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number;
  /** The server's recent log lines (for error messages). */
  log(): string;
  /** SIGTERM, then SIGKILL after a grace period. Removes temp dirs it created. */
  stop(): Promise<void>;
  /** SIGKILL without cleanup (crash tests). */
  kill9(): Promise<void>;
  readonly exited: Promise<number | null>;
}

const SEARCH_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin", "/sbin"];

/** Resolves the nats-server executable from a name or path; looks in PATH and the sbin dirs. */
export function findNatsServer(binary = "nats-server"): string | undefined {
  const isExec = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (binary.includes("/")) return isExec(resolve(binary)) ? resolve(binary) : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const d of dirs) {
    const p = join(d, binary);
    if (isExec(p)) return p;
  }
  return undefined;
}

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect({ host, port }, () => {
      s.destroy();
      res(true);
    });
    s.on("error", () => res(false));
  });
}

export async function startNatsServer(o: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer(o.binary ?? "nats-server");
  if (!bin)
    throw new NatsError(
      PS_ERR_NATS.ServerNotFound,
      `nats-server (${o.binary ?? "nats-server"}) not found on PATH or in ${SEARCH_DIRS.join(", ")}; install it with 'apt-get install -y nats-server' or set NATS_URL to a running server`,
    );
  const host = o.host ?? "127.0.0.1";
  const given = o.storeDir ? (isAbsolute(o.storeDir) ? o.storeDir : resolve(o.storeDir)) : undefined;
  // The store named (NATS_STORE_DIR) first, before the temp dir: one that cannot be made ended the start
  // with the bare fs error ("failed to start: ENOTDIR: not a directory, mkdir …") and left an empty
  // /tmp/ps-nats-* behind.
  if (given !== undefined) {
    try {
      mkdirSync(given, { recursive: true });
    } catch (err) {
      throw new NatsError(
        PS_ERR_NATS.ServerStart,
        `cannot make the JetStream store directory ${given} (NATS_STORE_DIR, nats.storeDir): ${(err as Error).message}; fix: set NATS_STORE_DIR to a directory that can be written`,
        { cause: err },
      );
    }
  }
  const work = mkdtempSync(join(tmpdir(), "ps-nats-"));
  const ownStore = given === undefined;
  const storeDir = given ?? join(work, "store");
  mkdirSync(storeDir, { recursive: true });
  const conf = [
    `host: "${host}"`,
    `port: ${o.port === undefined || o.port === 0 ? -1 : o.port}`,
    o.serverName ? `server_name: "${o.serverName}"` : "",
    `ports_file_dir: "${work}"`,
    `jetstream { store_dir: "${storeDir}" }`,
    o.extraConf ?? "",
  ].join("\n");
  const confFile = join(work, "nats.conf");
  writeFileSync(confFile, conf);
  const lines: string[] = [];
  let exitCode: number | null | undefined;
  const [cmd, ...args] = [...(o.prefix ?? []), bin, "-c", confFile];
  const child: ChildProcess = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], detached: o.detached === true });
  // A server of its own group outlives us unless told otherwise: on any exit of this process
  // (process.exit after a second Ctrl-C, an uncaught error) it is killed, synchronously.
  // Its temp dir (config, ports file) goes with it: left behind, one /tmp/ps-nats-* stayed for every
  // Ctrl-C during start-up, second Ctrl-C or shutdown past 30 s. (rmSync: an exit hook runs no async code.)
  const killOnExit = () => {
    if (exitCode === undefined) child.kill("SIGKILL");
    cleanup();
  };
  if (o.detached) process.once("exit", killOnExit);
  const keep = (b: Buffer) => {
    for (const l of b.toString().split("\n")) if (l.trim()) lines.push(l);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((res) =>
    child.on("exit", (code) => {
      process.removeListener("exit", killOnExit);
      res((exitCode = code));
    }),
  );
  const cleanup = () => {
    rmSync(work, { recursive: true, force: true });
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
  let port = -1;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) break;
    const pf = readdirSync(work).find((f) => f.endsWith(".ports"));
    if (pf) {
      try {
        const ports = JSON.parse(readFileSync(join(work, pf), "utf8")) as { nats?: string[] };
        const u = ports.nats?.[0];
        if (u) port = Number(new URL(u).port);
      } catch {
        /* written but not complete yet */
      }
      if (port > 0 && (await probe(host, port))) break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (port <= 0 || exitCode !== undefined || !(await probe(host, port))) {
    child.kill("SIGKILL");
    cleanup();
    const log = lines.slice(-15).join("\n");
    const taken = /address already in use/i.test(log);
    const hint = taken ? `; port ${o.port} is taken: set NATS_PORT to a free port or NATS_URL to the server already running there` : "";
    throw new NatsError(taken ? PS_ERR_NATS.PortTaken : PS_ERR_NATS.ServerStart, `nats-server did not start${hint}\n${log}`);
  }
  const url = `nats://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    host,
    port,
    storeDir,
    pid: child.pid!,
    exited,
    log: () => lines.join("\n"),
    async stop() {
      if (exitCode === undefined) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(t);
      }
      cleanup();
    },
    async kill9() {
      if (exitCode === undefined) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

