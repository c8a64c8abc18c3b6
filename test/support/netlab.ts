// Real network partitions for tests (issue 25): Linux network namespaces, each a host with its own
// interface, joined by a bridge in the root namespace. Cutting a host takes its end of the link down
// (its side of the cable is pulled): nothing it sends leaves, nothing reaches it, and the other side
// sees silence, not a reset. Needs root and iproute2 (`ip`), as CI has.
//
//   root namespace: bridge psb<id> 10.a.b.1/24 ── veth ── namespace pslab-<pid>-<id>-<host>: 10.a.b.(10+i)/24
//
// Everything a lab makes is named after the test process's pid, and deleted by `close()`, on the
// process's exit, or by the next lab of a later process when the pid that made it is gone (a test run
// killed with -9 leaves nothing behind for long).
import { execFileSync } from "node:child_process";

export interface NetHost {
  readonly name: string;
  /** The namespace's name (`ip netns exec <ns> …`). */
  readonly ns: string;
  /** The host's address on the lab's network. */
  readonly ip: string;
  /** A command prefix that runs a program inside the host's namespace. */
  readonly prefix: readonly string[];
  /** Takes the host's end of its link down. */
  cut(): void;
  /** Brings it back up. */
  heal(): void;
}

export interface NetLab {
  /** The root namespace's address on the lab's network (the bridge's). */
  readonly rootIp: string;
  host(name: string): NetHost;
  close(): void;
}

const NS_PREFIX = "pslab-";

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes what labs of processes that no longer run left behind. */
function sweepStale(): void {
  const stale = new Set<string>();
  for (const line of ip("netns", "list").split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = /^pslab-(\d+)-([a-z0-9]+)-/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    tryIp("netns", "delete", name);
    stale.add(m[2]!);
  }
  for (const id of stale) tryIp("link", "delete", `psb${id}`);
}

/** True when this process may make namespaces (root with iproute2). */
export function netlabAvailable(): boolean {
  try {
    return process.getuid?.() === 0 && ip("-V").includes("iproute2");
  } catch {
    return false;
  }
}

export function createNetLab(): NetLab {
  sweepStale();
  const id = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
  const used = ip("-4", "-o", "addr");
  let net = "";
  for (let attempt = 0; attempt < 100 && !net; attempt++) {
    const a = 64 + Math.floor(Math.random() * 160);
    const b = Math.floor(Math.random() * 250);
    const candidate = `10.${a}.${b}`;
    if (!used.includes(` ${candidate}.`)) net = candidate;
  }
  if (!net) throw new Error("no free 10.x.y.0/24 for the network lab");
  const bridge = `psb${id}`;
  const hosts: NetHost[] = [];
  const namespaces: string[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const ns of namespaces) tryIp("netns", "delete", ns);
    tryIp("link", "delete", bridge);
    process.removeListener("exit", close);
  };
  process.on("exit", close);
  try {
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", `${net}.1/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
  } catch (err) {
    close();
    throw err;
  }
  return {
    rootIp: `${net}.1`,
    host(name) {
      const i = hosts.length;
      const ns = `${NS_PREFIX}${process.pid}-${id}-${name}`;
      const outer = `psh${id}${i}`;
      const inner = `psn${id}${i}`;
      const addr = `${net}.${10 + i}`;
      namespaces.push(ns);
      ip("netns", "add", ns);
      ip("link", "add", outer, "type", "veth", "peer", "name", inner);
      ip("link", "set", inner, "netns", ns);
      ip("link", "set", outer, "master", bridge);
      ip("link", "set", outer, "up");
      ip("-n", ns, "addr", "add", `${addr}/24`, "dev", inner);
      ip("-n", ns, "link", "set", inner, "up");
      ip("-n", ns, "link", "set", "lo", "up");
      const h: NetHost = {
        name,
        ns,
        ip: addr,
        prefix: ["ip", "netns", "exec", ns],
        cut: () => void ip("-n", ns, "link", "set", inner, "down"),
        heal: () => void ip("-n", ns, "link", "set", inner, "up"),
      };
      hosts.push(h);
      return h;
    },
    close,
  };
}
