import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, PS_ERR_CONFIG } from "./index.ts";

function issuesOf(fn: () => unknown): { key: string; env?: string; problem: string; fix: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe(PS_ERR_CONFIG.Invalid);
    return [...(err as ConfigError).issues];
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("accepts config/default.json as it is, frozen", () => {
    const c = loadConfig({ env: {} });
    expect(c.server.port).toBe(8080);
    expect(c.nats.port).toBe(4222);
    expect(c.nats.url).toBe("");
    expect(Object.isFrozen(c.server)).toBe(true);
    expect(c.promotions.length).toBeGreaterThanOrEqual(5);
  });

  it("reads the shared environment variables", () => {
    const c = loadConfig({ env: { NATS_URL: "nats://10.0.0.1:4222", NATS_PORT: "5222", PORT: "9090", SIM_SPEED: "max", LOG_LEVEL: "warn" } });
    expect(c.nats.url).toBe("nats://10.0.0.1:4222");
    expect(c.nats.port).toBe(5222);
    expect(c.server.port).toBe(9090);
    expect(c.simulator.speed).toBe("max");
    expect(c.log.level).toBe("warn");
  });

  // Table of bad configs: each names the key (and its env variable) and says how to fix it.
  const bad: [string, Parameters<typeof loadConfig>[0], string, string | undefined, RegExp][] = [
    ["port not a number", { env: { PORT: "http" } }, "server.port", "PORT", /set PORT to a free TCP port/],
    ["port out of range", { env: { NATS_PORT: "70000" } }, "nats.port", "NATS_PORT", /set NATS_PORT/],
    ["speed too high", { env: { SIM_SPEED: "500" } }, "simulator.speed", "SIM_SPEED", /0\.1…100/],
    // The world's generator takes the seed modulo 2^32 (rngFromSeed): 4294967303 ran seed 7's world.
    ["a seed past 2^32 - 1", { env: { SIM_SEED: "4294967303" } }, "simulator.seed", "SIM_SEED", /0…4294967295/],
    // The engine's draws take processor.seed modulo 2^32 too (src/random): 4294967297 drew as seed 1 under another name.
    ["a processor seed past 2^32 - 1", { env: {}, overrides: { processor: { seed: 4294967297 } } }, "processor.seed", undefined, /0…4294967295/],
    ["a scenario with no file", { env: { SIM_SCENARIO: "nope" } }, "simulator.scenario", "SIM_SCENARIO", /use one of .*steady.*taste-shift/],
    ["unknown log level", { env: { LOG_LEVEL: "loud" } }, "log.level", "LOG_LEVEL", /one of fatal, error/],
    ["not a NATS url", { env: { NATS_URL: "http://x" } }, "nats.url", "NATS_URL", /nats:\/\/host:port/],
    ["public bind without token", { env: { HOST: "0.0.0.0" } }, "server.token", "API_TOKEN", /API_TOKEN/],
    ["a public bind with a token of spaces", { env: { HOST: "0.0.0.0", API_TOKEN: "   " } }, "server.token", "API_TOKEN", /without spaces/],
    ["a token with a space at its end", { env: { API_TOKEN: "s3cret " } }, "server.token", "API_TOKEN", /without spaces/],
    // The token is all that guards a public bind, and nothing slows guessing: one client on 2 cores had
    // ~5,600 answers a second (401s over keep-alive), so a word like this one falls to a dictionary.
    ["a public bind with a short token", { env: { HOST: "0.0.0.0", API_TOKEN: "s3cret" } }, "server.token", "API_TOKEN", /long random string \(e\.g\. openssl rand -hex 24\)/],
    // The embedded nats-server has no authorization: on 0.0.0.0, a client with no credentials changed the
    // policy mode (promo.control) and paused the simulator from the network, API_TOKEN or not.
    ["an embedded nats-server on a public address", { env: { NATS_HOST: "0.0.0.0", HOST: "0.0.0.0", API_TOKEN: "0123456789abcdef0123" } }, "nats.host", "NATS_HOST", /set NATS_URL to a NATS server with authorization.*or NATS_HOST=127\.0\.0\.1/],
    ["user without password", { env: { NATS_USER: "u" } }, "nats.pass", "NATS_PASS", /NATS_PASS/],
    ["a cluster list with one server that is no NATS URL", { env: { NATS_URL: "nats://a:4222,http://b:4222" } }, "nats.url", "NATS_URL", /nats:\/\/host:port/],
    ["a NATS URL with no host", { env: { NATS_URL: "nats://" } }, "nats.url", "NATS_URL", /nats:\/\/host:port/],
    // The Node client cannot dial NATS over WebSocket: it failed only when connecting, with nats.js's "use the 'wsconnect' function instead".
    ["a NATS URL over WebSocket", { env: { NATS_URL: "ws://127.0.0.1:8443" } }, "nats.url", "NATS_URL", /client port.*nats:\/\/host:4222/],
    ["a cluster list with a secure WebSocket server", { env: { NATS_URL: "nats://a:4222,wss://b:443" } }, "nats.url", "NATS_URL", /client port.*nats:\/\/host:4222/],
    ["an allowed origin with a trailing slash", { overrides: { server: { allowedOrigins: ["https://shop.example.com/"] } } }, "server.allowedOrigins[0]", undefined, /scheme:\/\/host\[:port\]/],
    ["a wildcard allowed origin", { overrides: { server: { allowedOrigins: ["*"] } } }, "server.allowedOrigins[0]", undefined, /no wildcard/],
    ["a TLS CA file that is not there", { env: { NATS_URL: "tls://127.0.0.1:4222", NATS_TLS: "1", NATS_TLS_CA: "/nonexistent/ca.pem" } }, "nats.tls.caFile", "NATS_TLS_CA", /point NATS_TLS_CA at a readable file holding the CA certificate/],
    ["a TLS client certificate that is not there", { env: { NATS_URL: "tls://127.0.0.1:4222", NATS_TLS: "1", NATS_TLS_CERT: "/nonexistent/c.pem", NATS_TLS_KEY: "/nonexistent/k.pem" } }, "nats.tls.certFile", "NATS_TLS_CERT", /point NATS_TLS_CERT at a readable file/],
    ["a TLS client key without its certificate", { env: { NATS_URL: "tls://127.0.0.1:4222", NATS_TLS: "1", NATS_TLS_KEY: "/nonexistent/k.pem" } }, "nats.tls.certFile", "NATS_TLS_CERT", /set NATS_TLS_CERT, or unset NATS_TLS_KEY/],
    ["an nkey seed file that is not there", { env: { NATS_URL: "nats://127.0.0.1:4222", NATS_NKEY_SEED_FILE: "/nonexistent/seed.nk" } }, "nats.nkeySeedFile", "NATS_NKEY_SEED_FILE", /readable file holding the nkey seed/],
    ["TLS with the embedded server", { env: { NATS_TLS: "1" } }, "nats.tls.enabled", "NATS_TLS", /set NATS_URL to a NATS server with TLS .*or unset NATS_TLS/],
    ["an empty store directory (it was the repository itself)", { env: { NATS_STORE_DIR: "" } }, "nats.storeDir", "NATS_STORE_DIR", /set NATS_STORE_DIR to a writable directory/],
    ["unknown key", { env: {}, overrides: { server: { prot: 1 } } }, "server.prot", undefined, /spelling/],
    ["decisions' duplicate window shorter than a restart replays", { env: {}, overrides: { streams: { decisions: { duplicateWindowSec: 59 } } } }, "streams.decisions.duplicateWindowSec", undefined, /lower processor\.checkpointEverySec/],
    ["a hot set larger than half the memory bound", { env: {}, overrides: { features: { maxMemoryMb: 16 } } }, "features.hotCustomers", undefined, /lower it to 2796 or less, or raise features\.maxMemoryMb/],
    ["outcomes' duplicate window shorter than a restart replays", { env: {}, overrides: { streams: { outcomes: { duplicateWindowSec: 59 } } } }, "streams.outcomes.duplicateWindowSec", undefined, /raise streams\.outcomes\.duplicateWindowSec/],
    ["two buckets with one name", { env: {}, overrides: { kv: { leaseBucket: "PS_STATE" } } }, "kv.leaseBucket", undefined, /name of its own/],
    ["two streams with one name", { env: {}, overrides: { streams: { outcomes: { name: "DECISIONS" } } } }, "streams.outcomes.name", undefined, /name of its own/],
    ["a stream named as a bucket's", { env: {}, overrides: { streams: { deadletter: { name: "KV_PS_ANSWERS" } } } }, "kv.answersBucket", undefined, /give kv\.answersBucket a name of its own/],
    ["events larger than the events stream takes", { env: {}, overrides: { streams: { events: { maxMsgBytes: 100 } } } }, "streams.events.maxMsgBytes", undefined, /raise streams\.events\.maxMsgBytes to 16640 or more, or lower processor\.maxEventBytes/],
    ["a message limit above the stream's size", { env: {}, overrides: { streams: { deadletter: { maxBytes: 100_000 } } } }, "streams.deadletter.maxMsgBytes", undefined, /raise streams\.deadletter\.maxBytes/],
    ["a duplicate window longer than messages are kept", { env: {}, overrides: { streams: { events: { maxAgeSec: 60 } } } }, "streams.events.duplicateWindowSec", undefined, /lower streams\.events\.duplicateWindowSec to 60 or less/],
    ["customers forgotten before their attribution window ends", { env: {}, overrides: { features: { idleTtlSec: 3600 } } }, "features.idleTtlSec", undefined, /raise features\.idleTtlSec to 172800 or more, or shorten attribution\.windowSecByChannel\.email/],
    ["customers forgotten before their frequency cap's window ends", { env: {}, overrides: { features: { idleTtlSec: 3600 }, attribution: { windowSecByChannel: { web: 1800, email: 1800, sms: 1800, push: 1800 } } } }, "features.idleTtlSec", undefined, /shorten guards\.frequencyCaps\.email\.windowSec/],
    ["holdout share too large", { env: {}, overrides: { bandit: { holdoutShare: 0.9 } } }, "bandit.holdoutShare", undefined, /\[0, 0\.5\]/],
    // The fix quotes the key's description: it said every explored decision is drawn uniformly, while a
    // quarter is (src/engine/safe.ts, EXPLORE_UNIFORM) and the rest follows the learner's own draw (README, "Safe start").
    ["apprentice exploration too large", { env: {}, overrides: { policy: { apprenticeExplore: 0.9 } } }, "policy.apprenticeExplore", undefined, /a quarter uniformly among the eligible arms, the rest by the learner's own draw.*\(0, 0\.5\]/],
    ["duplicate promotion id", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 1, channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }, { id: "a", name: "B", kind: "amount", amountOffCents: 1, channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[1].id", undefined, /own id/],
    ["percent promotion without percentOff", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "percent", channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].percentOff", undefined, /percentOff/],
    ["amount promotion with percentOff", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 1, percentOff: 10, channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].percentOff", undefined, /remove percentOff/],
    // Events carry a product id of letters, digits, ., _ or - (at most 64) and a category of 1…64 characters:
    // a promotion naming one no event can carry validated and was never offered.
    ["a promotion's productId no event can carry", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 1, productId: "sku 007", channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].productId", undefined, /letters, digits/],
    ["a promotion's empty category", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 1, category: "", channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].category", undefined, /1…64 characters/],
    // A fixed amount of 0 gives nothing and reserves nothing: the budget guard never binds (issue 15's percent without percentOff, again).
    ["an amount promotion of 0 cents", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 0, channels: ["web"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].amountOffCents", undefined, /at least 1/],
    ["promotion on an unknown channel", { env: {}, overrides: { promotions: [{ id: "a", name: "A", kind: "amount", amountOffCents: 1, channels: ["fax"], budgetCents: 1, maxDiscountCents: 1 }] } }, "promotions[0].channels[0]", undefined, /web, email, sms, push/],
  ];
  it.each(bad)("%s: fails naming the key and the fix", (_name, opts, key, env, fix) => {
    const issues = issuesOf(() => loadConfig(opts));
    const hit = issues.find((i) => i.key === key);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.env).toBe(env);
    expect(hit!.fix).toMatch(fix);
  });

  it("layers: explicit overrides over env over the file over config/default.json; objects key by key, lists whole", () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-cfg-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ server: { port: 7000, feedSize: 7 }, processor: { batchSize: 7 }, segments: [] }));
    const c = loadConfig({ env: { CONFIG_FILE: file, PORT: "7100", SCALE: "1", NATS_TLS: "false" }, overrides: { processor: { batchSize: 9 } } });
    expect(c.server.port).toBe(7100); // env over the file
    expect(c.server.feedSize).toBe(7); // the file over the defaults, beside a key env set
    expect(c.server.host).toBe("127.0.0.1"); // the default, beside keys the file set
    expect(c.processor.batchSize).toBe(9); // overrides over the file
    expect(c.processor.durable).toBe("processor");
    expect(c.segments).toEqual([]); // a list replaced whole
    expect(c.scale.enabled).toBe(true); // "1" converted
    expect(c.nats.tls.enabled).toBe(false);
  });

  it("names the env variable of a value that does not convert", () => {
    const issues = issuesOf(() => loadConfig({ env: { NATS_TLS: "yes", SIM_SPEED: "fast" } }));
    expect(issues.find((i) => i.key === "nats.tls.enabled")).toMatchObject({ env: "NATS_TLS", fix: "set NATS_TLS to true to require TLS to NATS" });
    expect(issues.find((i) => i.key === "simulator.speed")).toMatchObject({ env: "SIM_SPEED", problem: expect.stringContaining('got "fast"') });
  });

  // A list written as an object (promotions keyed by id) was taken for "missing" by the merge and
  // silently replaced by the default list; an object written as a list became the defaults.
  it.each([
    ["promotions", { promotions: { "my-promo": { id: "my-promo", name: "M", kind: "amount", amountOffCents: 1, channels: ["web"], budgetCents: 1, maxDiscountCents: 1 } } }, "an array", /write promotions as a JSON array/],
    ["segments", { segments: { tenure: {} } }, "an array", /JSON array/],
    ["simulator.categories", { simulator: { categories: { a: "toys" } } }, "an array", /JSON array/],
    ["server.allowedOrigins", { server: { allowedOrigins: "http://shop" } }, "an array", /JSON array/],
    ["server", { server: [] }, "an object", /JSON object/],
    ["policy", { policy: [] }, "an object", /JSON object/],
    ["server.port", { server: { port: { value: 1 } } }, "a single value", /set PORT to/],
  ])("a value of the wrong shape for %s is refused, not replaced by the default", (key, overrides, expected, fix) => {
    const issues = issuesOf(() => loadConfig({ env: {}, overrides }));
    const hit = issues.find((i) => i.key === key);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.problem).toContain(`expected ${expected}, got`);
    expect(hit!.fix).toMatch(fix);
  });

  it("names the overlay file a misshapen value came from", () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-cfg-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ promotions: { "my-promo": {} } }));
    const issues = issuesOf(() => loadConfig({ env: { CONFIG_FILE: file } }));
    expect(issues).toEqual([expect.objectContaining({ key: "promotions", problem: expect.stringContaining(`got an object (in CONFIG_FILE ${file})`) })]);
  });

  it.each([["null"], ['"x"'], ["[1,2]"]])("refuses an overlay file holding %s instead of an object", (text) => {
    const dir = mkdtempSync(join(tmpdir(), "ps-cfg-"));
    const file = join(dir, "c.json");
    writeFileSync(file, text);
    const issues = issuesOf(() => loadConfig({ env: { CONFIG_FILE: file } }));
    expect(issues).toEqual([{ key: "CONFIG_FILE", problem: expect.stringMatching(/must hold a JSON object$/), fix: expect.stringContaining("one JSON object") }]);
  });

  // TypeBox's conversion truncated these at the first non-digit (PARTITIONS=1e1 ran one partition).
  it.each([
    ["PARTITIONS", "1e1", "partitions", /written in decimal digits, got "1e1"/],
    ["PARTITIONS", "4.5", "partitions", /written in decimal digits, got "4\.5"/],
    ["PORT", "8e3", "server.port", /written in decimal digits, got "8e3"/],
    ["SIM_SEED", "1.5", "simulator.seed", /written in decimal digits, got "1\.5"/],
    ["PORT", "Infinity", "server.port", /got "Infinity"/],
    ["SIM_SPEED", "Infinity", "simulator.speed", /expected a finite number, got "Infinity"/],
    ["SIM_SEED", "9007199254740993", "simulator.seed", /beyond the largest exact integer/],
  ])("refuses %s=%s instead of truncating it", (name, text, key, problem) => {
    const issues = issuesOf(() => loadConfig({ env: { [name]: text } }));
    expect(issues.find((i) => i.key === key), JSON.stringify(issues)).toMatchObject({ env: name, problem: expect.stringMatching(problem), fix: expect.stringContaining(`set ${name} to`) });
  });

  it("still reads integers written in digits, and numbers in any JSON form where the key takes fractions", () => {
    // (The largest seed: past 2^32 - 1 the world's generator would take it modulo 2^32.)
    const c = loadConfig({ env: { PARTITIONS: "16", PORT: "0", SIM_SEED: "4294967295", SIM_SPEED: "1e1" } });
    expect([c.partitions, c.server.port, c.simulator.seed, c.simulator.speed]).toEqual([16, 0, 4294967295, 10]);
    expect(loadConfig({ env: {}, overrides: { processor: { seed: 4294967295 } } }).processor.seed).toBe(4294967295);
  });

  it("shows a number too large for JSON (1e400) as Infinity, not null, and refuses integers past the exact range", () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-cfg-"));
    const file = join(dir, "c.json");
    writeFileSync(file, '{"bandit": {"priorBeta": 1e400}, "streams": {"events": {"maxBytes": 100000000000000000000}}}');
    const issues = issuesOf(() => loadConfig({ env: { CONFIG_FILE: file } }));
    expect(issues.find((i) => i.key === "bandit.priorBeta")?.problem).toMatch(/got Infinity/);
    expect(issues.find((i) => i.key === "streams.events.maxBytes")?.problem).toMatch(/beyond the largest exact integer/);
  });

  // A bad rule was reported only as "segments[0]: expected union value"; a rule that is clearly one kind
  // (a threshold rule's value/then, a label rule's op: label) has its own field named.
  it.each([
    ["a threshold rule's label", { name: "a", feature: "views5m", op: ">=", value: 1, then: "Big", else: "small" }, "segments[0].then", /label when the comparison holds/],
    ["a threshold rule without its value", { name: "a", feature: "views5m", op: ">=", then: "big", else: "small" }, "segments[0].value", /the threshold/],
    ["a threshold rule's feature", { name: "a", feature: "bogus", op: ">=", value: 1, then: "big", else: "small" }, "segments[0].feature", /one of purchasesTotal/],
    ["a label rule without else", { name: "a", feature: "topCategory", op: "label" }, "segments[0].else", /label when the feature has no value/],
  ])("names the field of %s", (_name, rule, key, fix) => {
    const issues = issuesOf(() => loadConfig({ env: {}, overrides: { segments: [rule] } }));
    expect(issues.find((i) => i.key === key), JSON.stringify(issues)).toMatchObject({ fix: expect.stringMatching(fix) });
  });

  it("quotes a pattern as the schema has it, capitals included", () => {
    // The message was lower-cased whole: '^[a-za-z0-9_-]*$' read as "lower-case letters only".
    const [issue] = issuesOf(() => loadConfig({ env: { INSTANCE_ID: "proc 1" } }));
    expect(issue).toMatchObject({ key: "scale.instanceId", env: "INSTANCE_ID" });
    expect(issue!.problem).toBe(`expected string to match '^[A-Za-z0-9_-]*$', got "proc 1"`);
  });

  it("reports a segment rule of neither kind as a whole", () => {
    const issues = issuesOf(() => loadConfig({ env: {}, overrides: { segments: [{}] } }));
    expect(issues).toEqual([expect.objectContaining({ key: "segments[0]", fix: expect.stringContaining("a threshold rule {name, feature") })]);
  });

  it("reports an unreadable overlay file by name", () => {
    expect(() => loadConfig({ env: { CONFIG_FILE: "/nonexistent/promo.json" } })).toThrowError(
      expect.objectContaining({ code: PS_ERR_CONFIG.Unreadable, message: expect.stringContaining("/nonexistent/promo.json") }),
    );
  });
});
