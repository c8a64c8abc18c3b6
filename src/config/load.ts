import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Value, ValueErrorType, type ValueError } from "@sinclair/typebox/value";
import { Type, type TSchema } from "@sinclair/typebox";
import { promotionIssues } from "../events/index.ts";
import { baselineIssues } from "./baseline.ts";
import { ConfigSchema, type Config } from "./schema.ts";
import { ConfigError, PS_ERR_CONFIG, type ConfigIssue } from "./errors.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_CONFIG_FILE = resolve(REPO_ROOT, "config/default.json");

/** Environment variables every part reads the same way, and the key each one sets. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  NATS_URL: "nats.url",
  NATS_PORT: "nats.port",
  NATS_HOST: "nats.host",
  NATS_STORE_DIR: "nats.storeDir",
  NATS_SERVER_BIN: "nats.serverBinary",
  NATS_USER: "nats.user",
  NATS_PASS: "nats.pass",
  NATS_TOKEN: "nats.token",
  NATS_NKEY_SEED_FILE: "nats.nkeySeedFile",
  NATS_TLS: "nats.tls.enabled",
  NATS_TLS_CA: "nats.tls.caFile",
  NATS_TLS_CERT: "nats.tls.certFile",
  NATS_TLS_KEY: "nats.tls.keyFile",
  SUBJECT_PREFIX: "nats.subjectPrefix",
  PARTITIONS: "partitions",
  SCALE: "scale.enabled",
  INSTANCE_ID: "scale.instanceId",
  PORT: "server.port",
  METRICS_PORT: "processor.metricsPort",
  HOST: "server.host",
  API_TOKEN: "server.token",
  SIM_SEED: "simulator.seed",
  SIM_SPEED: "simulator.speed",
  SIM_SCENARIO: "simulator.scenario",
  LOG_LEVEL: "log.level",
  POLICY_MODE: "policy.mode",
};
const KEY_TO_ENV = new Map(Object.entries(ENV_KEYS).map(([env, key]) => [key, env]));

export interface LoadOptions {
  /** Environment to read overrides from; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A JSON file merged over config/default.json (also taken from env CONFIG_FILE). */
  file?: string;
  /** Values merged last (used by tests and tools), as a partial config object. */
  overrides?: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The schema with `layer`'s values as its defaults: objects property by property, anything else
 * (numbers, strings, lists) whole. Keys the schema does not know keep their value too, so validation
 * can still name them ("unknown key") whichever layer they came from.
 */
function withDefaults(schema: TSchema, layer: unknown): TSchema {
  if (layer === undefined) return schema;
  if (schema.type !== "object" || !isObject(layer)) return { ...schema, default: layer };
  const known = (schema.properties ?? {}) as Record<string, TSchema>;
  const properties: Record<string, TSchema> = {};
  for (const [k, sub] of Object.entries(known)) properties[k] = withDefaults(sub, layer[k]);
  for (const [k, v] of Object.entries(layer)) if (!(k in known)) properties[k] = Type.Unknown({ default: v });
  return { ...schema, properties, default: {} };
}

/**
 * Layers merged by TypeBox's Value.Default: the first layer wins; each later one fills only what is
 * still missing (objects key by key, lists whole), ending with config/default.json.
 */
function mergeLayers(layers: readonly unknown[]): unknown {
  let value: unknown = {};
  for (const layer of layers) value = Value.Default(withDefaults(ConfigSchema, layer), value);
  return value;
}

type Shape = "an object" | "an array" | "a single value";
const shapeOf = (v: unknown): Shape => (Array.isArray(v) ? "an array" : isObject(v) ? "an object" : "a single value");

/** The JSON shapes a schema takes (a union: each branch's); undefined when any (an unknown key's). */
function shapesOf(schema: TSchema): Set<Shape> | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (anyOf) {
    const all = new Set<Shape>();
    for (const b of anyOf) {
      const s = shapesOf(b);
      if (!s) return undefined;
      for (const x of s) all.add(x);
    }
    return all;
  }
  if (schema.type === "object") return new Set(["an object"]);
  if (schema.type === "array") return new Set(["an array"]);
  return schema.type === undefined ? undefined : new Set(["a single value"]);
}

/**
 * A layer's values whose shape (object, array, single value) is not their key's. The merge fills
 * what a layer leaves missing from the next one, and a list written as an object (promotions keyed by
 * id) would be taken for "missing" and silently replaced by the default list: such a value is refused
 * before merging, naming the key and the layer it came from.
 */
function shapeIssues(schema: TSchema, value: unknown, key: string, source: string): ConfigIssue[] {
  if (value === undefined) return [];
  const want = shapesOf(schema);
  const got = shapeOf(value);
  if (want && !want.has(got)) {
    const desc = (schema as { description?: string }).description;
    const env = KEY_TO_ENV.get(key);
    const expected = [...want].join(" or ");
    const fix =
      want.size > 1 || want.has("a single value")
        ? `${env ? `set ${env}` : `set ${key}`} to ${desc ?? "a valid value"}`
        : want.has("an array")
          ? `write ${key} as a JSON array [ … ]${desc ? ` of ${desc.replace(/^(the list of |at most \d+ )/, "")}` : ""}; a list replaces the default list whole`
          : `write ${key} as a JSON object { … } with the keys of config/default.json`;
    const shown = got === "a single value" ? `${got}, ${JSON.stringify(value)}` : got;
    return [{ key, ...(env ? { env } : {}), problem: `expected ${expected}, got ${shown} (in ${source})`, fix }];
  }
  if (schema.type !== "object" || !isObject(value)) return [];
  const known = (schema.properties ?? {}) as Record<string, TSchema>;
  const issues: ConfigIssue[] = [];
  for (const [k, sub] of Object.entries(known)) issues.push(...shapeIssues(sub, value[k], key === "(root)" ? k : `${key}.${k}`, source));
  return issues;
}

function readJson(path: string, key: string): Json {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Json;
  } catch (err) {
    throw new ConfigError(
      PS_ERR_CONFIG.Unreadable,
      [{ key, problem: `cannot read ${path}: ${(err as Error).message}`, fix: "point it at a readable JSON file" }],
      { cause: err },
    );
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) {
    if (!isObject(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
/** The shortest API_TOKEN taken for a server bound beyond loopback. */
const MIN_PUBLIC_TOKEN_LENGTH = 16;
/** What JetStream counts besides an event's payload: "NATS/1.0", the Nats-Msg-Id header with an id of up to 128 characters, line ends; rounded up. */
const EVENT_HEADER_BYTES = 256;

/**
 * nats:// or tls://, a host, perhaps credentials and a port, no path. Not ws:// or wss://: the Node
 * client (@nats-io/transport-node) cannot dial NATS over WebSocket and failed only when connecting.
 */
function isNatsUrl(u: string): boolean {
  try {
    const x = new URL(u);
    return /^(nats|tls):$/.test(x.protocol) && x.hostname !== "" && (x.pathname === "" || x.pathname === "/");
  } catch {
    return false;
  }
}

/**
 * Whether the connection to NATS must be encrypted: NATS_TLS, or a tls:// server in NATS_URL. nats.js
 * reads only host and port from a server URL, so tls:// alone was dialled in plain text when the server
 * did not insist on TLS; nats-server's own clients take tls:// as "TLS required", and so do we.
 */
export function natsTlsRequired(nats: Config["nats"]): boolean {
  return nats.tls.enabled || nats.url.split(",").some((u) => /^tls:\/\//i.test(u.trim()));
}

function crossChecks(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  c.promotions.forEach((p, i) => {
    const key = `promotions[${i}]`;
    // The same rules a promotion change arriving in the log is decoded with (src/events/promotion.ts).
    for (const issue of promotionIssues(p)) issues.push({ key: `${key}.${issue.field}`, problem: issue.problem, fix: issue.fix });
    if (seen.has(p.id)) issues.push({ key: `${key}.id`, problem: `duplicate id '${p.id}'`, fix: "give each promotion its own id" });
    seen.add(p.id);
  });
  const names = new Set<string>();
  c.segments.forEach((s, i) => {
    if (names.has(s.name)) issues.push({ key: `segments[${i}].name`, problem: `duplicate name '${s.name}'`, fix: "give each rule its own name" });
    names.add(s.name);
  });
  if (!LOOPBACK.has(c.server.host) && c.server.token === "")
    issues.push({
      key: "server.token",
      env: "API_TOKEN",
      problem: `server.host is '${c.server.host}' (${c.server.host === "" ? "every interface" : "not loopback"}) but no access token is set`,
      fix: "set API_TOKEN to a long random string, or bind HOST=127.0.0.1",
    });
  // A token of spaces passed the check above and protected nothing; spaces at its ends never match a
  // header's value (HTTP trims them), so such a token locked the dashboard's own page out.
  if (c.server.token !== "" && c.server.token.trim() !== c.server.token)
    issues.push({
      key: "server.token",
      env: "API_TOKEN",
      problem: c.server.token.trim() === "" ? "is only spaces" : "starts or ends with spaces",
      fix: "set API_TOKEN to a long random string without spaces (e.g. openssl rand -hex 24)",
    });
  // On a public bind the token is all that guards the API, and nothing slows guessing it: one client on
  // 2 cores got ~5,600 answers a second (401s over keep-alive), so "s3cret" or a short word falls to a
  // dictionary in moments. 16 characters is a floor, not a recommendation: the fix says what to use.
  // (A token with spaces at its ends is refused above already.)
  if (!LOOPBACK.has(c.server.host) && c.server.token !== "" && c.server.token.trim() === c.server.token && c.server.token.length < MIN_PUBLIC_TOKEN_LENGTH)
    issues.push({
      key: "server.token",
      env: "API_TOKEN",
      problem: `is ${c.server.token.length} characters long, and server.host is '${c.server.host}' (not loopback): a token guarding a public bind must have at least ${MIN_PUBLIC_TOKEN_LENGTH} characters`,
      fix: "set API_TOKEN to a long random string (e.g. openssl rand -hex 24), or bind HOST=127.0.0.1",
    });
  // The embedded nats-server runs with no authorization (src/io/nats/server.ts): on an address others reach,
  // anyone could publish on promo.control and sim.control, the event subjects and KV, API_TOKEN or not.
  // Started with NATS_HOST=0.0.0.0 and a token, a client with no credentials from the network changed the
  // policy's mode and paused the simulator. A server others must reach is one with its own authorization.
  if (c.nats.url === "" && !LOOPBACK.has(c.nats.host))
    issues.push({
      key: "nats.host",
      env: "NATS_HOST",
      problem: `the embedded nats-server would listen on '${c.nats.host}' (${c.nats.host === "" ? "every interface" : "not loopback"}) with no authorization: anyone reaching it could change promotions and the policy's mode, whatever API_TOKEN says`,
      fix: "set NATS_URL to a NATS server with authorization (and NATS_USER/NATS_PASS, NATS_TOKEN or NATS_NKEY_SEED_FILE), or NATS_HOST=127.0.0.1",
    });
  if ((c.nats.user === "") !== (c.nats.pass === ""))
    issues.push({ key: "nats.pass", env: "NATS_PASS", problem: "user and password must be set together", fix: "set both NATS_USER and NATS_PASS, or neither" });
  // Read only when connecting: a missing file failed after the embedded server had started.
  if (c.nats.nkeySeedFile !== "" && !readable(c.nats.nkeySeedFile))
    issues.push({ key: "nats.nkeySeedFile", env: "NATS_NKEY_SEED_FILE", problem: `cannot read ${resolve(c.nats.nkeySeedFile)}`, fix: "point NATS_NKEY_SEED_FILE at a readable file holding the nkey seed (SU…), or unset it" });
  // The embedded nats-server (no NATS_URL) is started without TLS: a client requiring it cannot connect.
  if (c.nats.tls.enabled && c.nats.url === "")
    issues.push({
      key: "nats.tls.enabled",
      env: "NATS_TLS",
      problem: "TLS is required but NATS_URL is empty, and the embedded nats-server runs without TLS",
      fix: "set NATS_URL to a NATS server with TLS (tls://host:4222), or unset NATS_TLS to use the embedded server",
    });
  if (natsTlsRequired(c.nats) && c.nats.tls.certFile !== "" && c.nats.tls.keyFile === "")
    issues.push({ key: "nats.tls.keyFile", env: "NATS_TLS_KEY", problem: "a client certificate needs its key", fix: "set NATS_TLS_KEY" });
  if (natsTlsRequired(c.nats) && c.nats.tls.keyFile !== "" && c.nats.tls.certFile === "")
    issues.push({ key: "nats.tls.certFile", env: "NATS_TLS_CERT", problem: "a client key needs its certificate", fix: "set NATS_TLS_CERT, or unset NATS_TLS_KEY" });
  // Read only when connecting, like the nkey seed: a missing file failed after the embedded parts had started.
  if (natsTlsRequired(c.nats))
    for (const [k, env, what] of [
      ["caFile", "NATS_TLS_CA", "the CA certificate (PEM) that signed the server's"],
      ["certFile", "NATS_TLS_CERT", "the client certificate (PEM)"],
      ["keyFile", "NATS_TLS_KEY", "the client certificate's key (PEM)"],
    ] as const)
      if (c.nats.tls[k] !== "" && !readable(c.nats.tls[k]))
        issues.push({ key: `nats.tls.${k}`, env, problem: `cannot read ${resolve(c.nats.tls[k])}`, fix: `point ${env} at a readable file holding ${what}, or unset it` });
  // Every server of the list (the client tries them in turn): one that is no NATS URL fails only when reached.
  const badUrl = c.nats.url === "" ? undefined : c.nats.url.split(",").find((u) => !isNatsUrl(u.trim()));
  if (badUrl !== undefined)
    issues.push({
      key: "nats.url",
      env: "NATS_URL",
      problem: `'${badUrl.trim()}'${c.nats.url.includes(",") ? ` (in '${c.nats.url}')` : ""} is not a NATS URL${/^wss?:/i.test(badUrl.trim()) ? " this client can dial (no NATS over WebSocket)" : ""}`,
      fix: "use nats://host:port, or tls://host:port for TLS (comma-separate several); a server's client port, nats://host:4222 by default, not its websocket port",
    });
  // The WebSocket compares a browser's Origin header with these as they are: scheme://host[:port], nothing more.
  c.server.allowedOrigins.forEach((o, i) => {
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === "http:" || u.protocol === "https:") && u.origin === o;
    } catch {
      // not a URL
    }
    if (!ok) issues.push({ key: `server.allowedOrigins[${i}]`, problem: `'${o}' is not an origin as a browser sends it`, fix: "write scheme://host[:port], e.g. https://shop.example.com, with no path, no trailing slash and no wildcard" });
  });
  // A restart replays up to a checkpoint interval of events and publishes again what they decided and
  // closed, with the same msg ids: the streams those publishes go to must still remember the ids.
  for (const s of ["decisions", "outcomes"] as const)
    if (c.processor.checkpointEverySec * 2 > c.streams[s].duplicateWindowSec)
      issues.push({
        key: `streams.${s}.duplicateWindowSec`,
        problem: `${c.streams[s].duplicateWindowSec} s does not cover twice the checkpoint interval (${c.processor.checkpointEverySec} s), the span a restart replays`,
        fix: `raise streams.${s}.duplicateWindowSec or lower processor.checkpointEverySec`,
      });
  // The hot set lives inside the memory bound (~3 KB a decoded customer): past half of it, the bound
  // would evict most customers to make room for decoded copies of a few.
  if (c.features.hotCustomers * 3_000 > (c.features.maxMemoryMb * 2 ** 20) / 2)
    issues.push({
      key: "features.hotCustomers",
      problem: `${c.features.hotCustomers} decoded customers (~3 KB each) take more than half of features.maxMemoryMb (${c.features.maxMemoryMb})`,
      fix: `lower it to ${Math.floor((c.features.maxMemoryMb * 2 ** 20) / 6_000)} or less, or raise features.maxMemoryMb`,
    });
  // JetStream keeps streams and KV buckets (stream KV_<bucket>) in one namespace: two keys naming the
  // same one would share it (a bucket's history holding another's keys, events in the decisions' stream).
  const owners = new Map<string, string>();
  const claim = (stream: string, key: string, what: string) => {
    const other = owners.get(stream);
    if (other) issues.push({ key, problem: `${what} is the same JetStream stream (${stream}) as ${other}`, fix: `give ${key} a name of its own` });
    else owners.set(stream, key);
  };
  for (const s of ["events", "decisions", "outcomes", "deadletter"] as const) claim(c.streams[s].name, `streams.${s}.name`, `'${c.streams[s].name}'`);
  for (const b of ["stateBucket", "inventoryBucket", "leaseBucket", "answersBucket"] as const) claim(`KV_${c.kv[b]}`, `kv.${b}`, `bucket '${c.kv[b]}'`);
  // Every event the processor accepts must fit the stream, headers included (Nats-Msg-Id: the event's id,
  // at most 128 characters): a larger one is refused by the server at publish and the shop's event is lost.
  if (c.streams.events.maxMsgBytes < c.processor.maxEventBytes + EVENT_HEADER_BYTES)
    issues.push({
      key: "streams.events.maxMsgBytes",
      problem: `${c.streams.events.maxMsgBytes} bytes does not hold the largest event accepted (processor.maxEventBytes ${c.processor.maxEventBytes}) with its headers (${EVENT_HEADER_BYTES} bytes)`,
      fix: `raise streams.events.maxMsgBytes to ${c.processor.maxEventBytes + EVENT_HEADER_BYTES} or more, or lower processor.maxEventBytes`,
    });
  for (const s of ["events", "decisions", "outcomes", "deadletter"] as const) {
    const l = c.streams[s];
    if (l.maxMsgBytes > l.maxBytes)
      issues.push({ key: `streams.${s}.maxMsgBytes`, problem: `${l.maxMsgBytes} bytes is more than the whole stream may hold (streams.${s}.maxBytes ${l.maxBytes})`, fix: `lower streams.${s}.maxMsgBytes or raise streams.${s}.maxBytes` });
    // nats-server refuses such a stream at provisioning: say so before connecting.
    if (l.duplicateWindowSec > l.maxAgeSec)
      issues.push({ key: `streams.${s}.duplicateWindowSec`, problem: `${l.duplicateWindowSec} s is longer than messages are kept (streams.${s}.maxAgeSec ${l.maxAgeSec} s)`, fix: `lower streams.${s}.duplicateWindowSec to ${l.maxAgeSec} or less, or raise streams.${s}.maxAgeSec` });
  }
  // A customer idle for features.idleTtlSec is forgotten with their offer history and open decisions: a
  // frequency cap or an attribution window longer than that stops holding for them.
  let longest: { key: string; sec: number } | undefined;
  for (const ch of ["web", "email", "sms", "push"] as const) {
    const cap = c.guards.frequencyCaps[ch];
    const windows = [
      ...(cap.maxOffers > 0 ? [{ key: `guards.frequencyCaps.${ch}.windowSec`, sec: cap.windowSec }] : []),
      { key: `attribution.windowSecByChannel.${ch}`, sec: c.attribution.windowSecByChannel[ch] },
    ];
    for (const w of windows) if (!longest || w.sec > longest.sec) longest = w;
  }
  if (longest && c.features.idleTtlSec < longest.sec)
    issues.push({
      key: "features.idleTtlSec",
      problem: `${c.features.idleTtlSec} s is shorter than ${longest.key} (${longest.sec} s): a customer idle that long is forgotten with their offer history, and the window stops holding for them`,
      fix: `raise features.idleTtlSec to ${longest.sec} or more, or shorten ${longest.key}`,
    });
  issues.push(...baselineIssues(c));
  // The simulator reads its scenario when it starts, after NATS is up: a name with no file stops the
  // program here instead, before any connection opens.
  const scenarios = resolve(REPO_ROOT, "config/scenarios");
  if (!existsSync(resolve(scenarios, `${c.simulator.scenario}.json`))) {
    const known = existsSync(scenarios) ? readdirSync(scenarios).flatMap((f) => (f.endsWith(".json") ? [f.slice(0, -5)] : [])).sort() : [];
    issues.push({ key: "simulator.scenario", env: "SIM_SCENARIO", problem: `no scenario '${c.simulator.scenario}' (config/scenarios/${c.simulator.scenario}.json)`, fix: `use one of ${known.join(", ")}` });
  }
  if (c.processor.flushEveryMessages > c.processor.maxInFlightPublishes * 10)
    issues.push({
      key: "processor.flushEveryMessages",
      problem: "larger than ten times processor.maxInFlightPublishes",
      fix: "lower it or raise maxInFlightPublishes",
    });
  return issues;
}

/** The schema at a dotted key (undefined when the schema has no such key). */
function schemaAt(key: string): TSchema | undefined {
  let schema: TSchema | undefined = ConfigSchema;
  for (const k of key.split(".")) schema = (schema?.properties as Record<string, TSchema> | undefined)?.[k];
  return schema;
}

/**
 * An env value for a number the schema's conversion would take wrongly: TypeBox turns "4.5", "1e1" and
 * "8e3" into the integers 4, 1 and 8 (it truncates at the first character that is not a digit), and
 * "Infinity" into a number that is then reported as null. An integer must be written in decimal digits
 * (with a leading - where its range allows) and hold exactly; a number must be finite.
 */
function envNumberIssue(name: string, key: string, text: string): ConfigIssue | undefined {
  const schema = schemaAt(key);
  if (!schema) return undefined;
  const branches = ((schema as { anyOf?: TSchema[] }).anyOf ?? [schema]).map((b) => b.type as unknown);
  const desc = (schema as { description?: string }).description ?? "a valid value";
  const fix = `set ${name} to ${desc}`;
  if (branches.includes("integer") && !branches.includes("number")) {
    if (!/^-?\d+$/.test(text))
      return { key, env: name, problem: `expected integer${Number.isNaN(Number(text)) || text.trim() === "" ? "" : " written in decimal digits"}, got "${text}"`, fix };
    if (!Number.isSafeInteger(Number(text))) return { key, env: name, problem: `"${text}" is beyond the largest exact integer (${Number.MAX_SAFE_INTEGER})`, fix };
  } else if (branches.includes("number") && text.trim() !== "" && !Number.isNaN(Number(text)) && !Number.isFinite(Number(text)))
    return { key, env: name, problem: `expected a finite number, got "${text}"`, fix };
  return undefined;
}

/** Reads config/default.json, an optional overlay file, env overrides and explicit overrides; validates; freezes. */
export function loadConfig(opts: LoadOptions = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const defaults = readJson(DEFAULT_CONFIG_FILE, "config/default.json");
  const file = opts.file ?? env.CONFIG_FILE;
  const fromFile = file ? readJson(resolve(file), "CONFIG_FILE") : undefined;
  // A file that is not one object (null, a string, a list) would be merged as nothing or as keys "0", "1".
  if (fromFile !== undefined && !isObject(fromFile))
    throw new ConfigError(PS_ERR_CONFIG.Invalid, [
      {
        key: "CONFIG_FILE",
        problem: `${resolve(file!)} holds ${Array.isArray(fromFile) ? "an array" : JSON.stringify(fromFile)}, but it must hold a JSON object`,
        fix: `write the keys to change as one JSON object, e.g. {"server": {"port": 8080}}`,
      },
    ]);
  const fromEnv: Record<string, unknown> = {};
  const envIssues: ConfigIssue[] = [];
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v === undefined) continue;
    setPath(fromEnv, key.split("."), v);
    const issue = envNumberIssue(name, key, v);
    if (issue) envIssues.push(issue);
  }
  // Env values are strings: TypeBox turns them into what the schema wants where that is unambiguous
  // ("5222" → 5222, "true"/"1" → true, "max" stays); anything else is left for validation to name.
  const converted = Value.Convert(ConfigSchema, fromEnv);
  const layers: [unknown, string][] = [
    [structuredClone(opts.overrides), "overrides"],
    [converted, "the environment"],
    [fromFile, `CONFIG_FILE ${file}`],
    [defaults, "config/default.json"],
  ];
  const misshapen = [...envIssues, ...layers.flatMap(([layer, source]) => shapeIssues(ConfigSchema, layer, "(root)", source))];
  if (misshapen.length) throw new ConfigError(PS_ERR_CONFIG.Invalid, misshapen);
  const raw = mergeLayers(layers.map(([layer]) => layer));
  return validateConfig(raw);
}

/**
 * The object branch of a union an object value was clearly meant for: the only one (policy.baseline: a
 * built-in name or a rule), or among several (a segment rule: threshold or label) the only one that
 * has a key the others lack (a threshold rule's value, then) or whose fixed value it carries (op: label).
 */
function branchFor(branches: readonly TSchema[], value: Record<string, unknown>): TSchema | undefined {
  const objects = branches.filter((b) => b.type === "object");
  if (objects.length <= 1) return objects[0];
  const props = (b: TSchema) => (b.properties ?? {}) as Record<string, TSchema & { const?: unknown }>;
  const meant = objects.filter(
    (b) =>
      Object.keys(value).some((k) => k in props(b) && objects.every((o) => o === b || !(k in props(o)))) ||
      Object.entries(props(b)).some(([k, s]) => s.const !== undefined && value[k] === s.const),
  );
  return meant.length === 1 ? meant[0] : undefined;
}

/**
 * A union's failure says only "expected union value". When the value is an object meant for one of the
 * union's object branches (branchFor), that branch's own errors say what is wrong and where
 * (policy.baseline.web.atView, segments[0].then), so they are reported instead.
 */
function* withUnionBranches(errors: Iterable<ValueError>): Iterable<ValueError> {
  for (const e of errors) {
    const branches = (e.schema as { anyOf?: TSchema[] }).anyOf;
    const branch = e.type === ValueErrorType.Union && isObject(e.value) && branches ? branchFor(branches, e.value) : undefined;
    if (branch) {
      for (const sub of Value.Errors(branch, e.value)) yield { ...sub, path: `${e.path}${sub.path}` };
    } else yield e;
  }
}

/** A value as an error message shows it: JSON, except numbers JSON cannot write (1e400 is read as Infinity). */
const shown = (v: unknown): string =>
  typeof v === "number" && !Number.isFinite(v) ? `${v} (a number too large to hold, e.g. 1e400)` : JSON.stringify(v);

/**
 * Integers past Number.MAX_SAFE_INTEGER pass the schema (1e20 is an integer to JavaScript) but no longer
 * hold exactly: every integer key is refused beyond it, whichever layer set it.
 */
function unsafeIntegers(schema: TSchema, value: unknown, key: string, out: ConfigIssue[]): void {
  if (schema.type === "integer" && typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    const env = KEY_TO_ENV.get(key);
    out.push({ key, ...(env ? { env } : {}), problem: `${value} is beyond the largest exact integer (${Number.MAX_SAFE_INTEGER})`, fix: `${env ? `set ${env}` : `set ${key}`} to ${(schema as { description?: string }).description ?? "a smaller integer"}` });
  } else if (schema.type === "object" && isObject(value)) {
    for (const [k, sub] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) unsafeIntegers(sub, value[k], key ? `${key}.${k}` : k, out);
  } else if (schema.type === "array" && Array.isArray(value)) {
    value.forEach((v, i) => unsafeIntegers(schema.items as TSchema, v, `${key}[${i}]`, out));
  }
}

/** Validates a whole config object; throws ConfigError listing every problem with its key and fix. */
export function validateConfig(raw: unknown): Readonly<Config> {
  const issues: ConfigIssue[] = [];
  for (const e of withUnionBranches(Value.Errors(ConfigSchema, raw))) {
    const key = e.path.replace(/^\//, "").replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".") || "(root)";
    const env = KEY_TO_ENV.get(key);
    const desc = (e.schema as { description?: string }).description;
    let problem: string;
    if (e.type === ValueErrorType.ObjectAdditionalProperties) problem = "unknown key";
    else if (e.type === ValueErrorType.ObjectRequiredProperty) problem = "missing";
    // Only the first letter ("Expected …"): the rest may quote a pattern, whose capitals count.
    else problem = `${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}, got ${shown(e.value)}`;
    const fix =
      problem === "unknown key"
        ? "remove it or check its spelling against config/default.json"
        : `${env ? `set ${env}` : `set ${key}`} to ${desc ?? "a valid value"}`;
    // Value.Errors reports a union's failure and each branch's; keep the first per key.
    if (!issues.some((i) => i.key === key)) issues.push({ key, ...(env ? { env } : {}), problem, fix });
  }
  unsafeIntegers(ConfigSchema, raw, "", issues);
  if (issues.length) throw new ConfigError(PS_ERR_CONFIG.Invalid, issues);
  const config = raw as Config;
  const more = crossChecks(config);
  if (more.length) throw new ConfigError(PS_ERR_CONFIG.Invalid, more);
  return deepFreeze(structuredClone(config));
}
