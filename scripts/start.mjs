#!/usr/bin/env node
// `npm start` on a fresh machine: installs what is missing, then starts promo-stream.
// Plain JavaScript with no dependencies, because it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const part = process.argv[2] ?? "all";
const say = (m) => console.log(`[promo-stream] ${m}`);
const fail = (m) => {
  console.error(`[promo-stream] ${m}`);
  process.exit(1);
};

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node ${process.versions.node} is too old: promo-stream needs Node 20.19 or newer.`);

// 1. npm packages: `npm ci` when node_modules is missing or older than package-lock.json. npm writes
//    node_modules/.package-lock.json at the end of every install, so its mtime says when that was.
const lock = join(root, "package-lock.json");
const hidden = join(root, "node_modules", ".package-lock.json");
const stale = !existsSync(hidden) || statSync(lock).mtimeMs > statSync(hidden).mtimeMs;
if (stale) {
  say(existsSync(join(root, "node_modules")) ? "package-lock.json is newer than node_modules: running npm ci" : "node_modules missing: running npm ci");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) fail("npm ci failed (see above). Check your network access to the npm registry.");
}

// 2. nats-server, unless NATS_URL (or CONFIG_FILE's nats.url) points at one.
function onPath(bin) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/sbin"];
  for (const d of dirs) {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return join(d, bin);
    } catch {
      /* next */
    }
  }
  return undefined;
}
// `npm run simulator -- replay …` publishes to a server named by NATS_URL and never starts one.
const isReplay = part === "simulator" && process.argv[3] === "replay";
// NATS_URL and NATS_SERVER_BIN win over CONFIG_FILE's nats.url and nats.serverBinary, as in the config
// loader; a file that cannot be read here is left to the loader, which names the problem.
const fileNats = (() => {
  try {
    return process.env.CONFIG_FILE ? (JSON.parse(readFileSync(resolve(process.env.CONFIG_FILE), "utf8")).nats ?? {}) : {};
  } catch {
    return {};
  }
})();
const natsUrl = process.env.NATS_URL ?? (typeof fileNats.url === "string" ? fileNats.url : "");
// `--help` (src/main.ts prints the usage) starts nothing: no nats-server to install for it.
const wantsHelp = !isReplay && process.argv.slice(2).some((a) => a === "--help" || a === "-h");
const wantsNats = !natsUrl && !isReplay && !wantsHelp;
const natsBin = process.env.NATS_SERVER_BIN ?? (typeof fileNats.serverBinary === "string" ? fileNats.serverBinary : "nats-server");
if (wantsNats && !(natsBin.includes("/") ? existsSync(natsBin) : onPath(natsBin))) {
  // apt-get installs nats-server on the PATH (/usr/sbin), never a program named otherwise: with
  // NATS_SERVER_BIN at a path that is not there it ran apt-get update and install all the same, said
  // "nats-server installed", and the start failed after, naming neither NATS_SERVER_BIN nor a fix.
  if (natsBin !== "nats-server")
    fail(
      `NATS_SERVER_BIN (nats.serverBinary) names ${natsBin}, which is ${natsBin.includes("/") ? "not there" : "not on the PATH"}; fix: point NATS_SERVER_BIN at the nats-server program (e.g. /usr/sbin/nats-server), unset it to use nats-server from the PATH (installed with apt-get when missing), or set NATS_URL to a running server.`,
    );
  if (!onPath("apt-get")) fail("nats-server is not installed and apt-get is not available: install nats-server (https://nats.io) or set NATS_URL to a running server.");
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : spawnSync("sudo", ["-n", "true"]).status === 0 ? ["sudo", "-n"] : null;
  if (!sudo) fail("nats-server is not installed. Install it with: sudo apt-get install -y nats-server (or set NATS_URL to a running server).");
  say("nats-server not found: installing it with apt-get (Debian package nats-server)");
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
  };
  if (!run(["apt-get", "update"]) || !run(["apt-get", "install", "-y", "nats-server"]) || !onPath("nats-server"))
    fail("installing nats-server with apt-get failed (see above). Install it by hand or set NATS_URL to a running server.");
  say(`nats-server installed at ${onPath("nats-server")}`);
}

// 3. Run TypeScript directly (tsx), in this process, so Ctrl-C reaches the app's own handlers.
const { register } = await import(pathToFileURL(join(root, "node_modules/tsx/dist/esm/api/index.mjs")).href);
register();
process.env.PS_MAIN = "1";
process.argv[2] = part;
await import(pathToFileURL(join(root, "src/main.ts")).href);
