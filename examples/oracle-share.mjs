#!/usr/bin/env node
// Measures a running promo-stream against the simulator's oracle from outside, with nothing but the
// classic `nats` client: joins the simulator's ground truth (`sim.truth`) with the decisions
// (`decisions.>`) by event id, and reports the share of the oracle's expected incremental margin the
// engine earned, next to what each promotion would have earned as a fixed rule (offered wherever it
// was a candidate, control elsewhere) on the same decision points. Holdout and forced-control
// decisions are left out on both sides; the oracle picks among the engine's own candidates. A
// decision seen twice (a core subscription may see a republished decision after a crash) counts once.
//
//   NATS_URL=nats://127.0.0.1:4222 node examples/oracle-share.mjs [--seconds 120] [--skip 0]
//
// --skip N leaves out the first N joined decisions (the learner's start). Prints one JSON line every
// 10 s to stderr and the final figures as JSON on stdout.
import { connect } from "nats";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("seconds", 120);
const skip = arg("skip", 0);

// A NATS server away (promo-stream restarting) is waited for and said so on stderr: a core subscription
// misses what is published meanwhile, so the figures leave those decision points out. No server at all
// stops it with a line that says so.
const nc = await connect({ servers: url, name: "example-oracle-share", maxReconnectAttempts: -1 }).catch((err) => {
  console.error(`oracle-share: cannot connect to NATS at ${url} (${err.chainedError?.message ?? err.message}); is promo-stream running there? NATS_URL names its NATS server`);
  process.exit(1);
});
(async () => {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") console.error(`lost NATS at ${s.data}; waiting for it (what is published meanwhile is not seen, nor counted)`);
    if (s.type === "reconnect") console.error(`reconnected to NATS at ${s.data}`);
  }
})();
const truths = new Map();
const decisions = new Map();
const seen = new Map();
const state = { joined: 0, counted: 0, engine: 0, oracle: 0, fixed: new Map(), arms: new Map() };
const LIMIT = 50_000;

function remember(map, key, value) {
  map.set(key, value);
  if (map.size > LIMIT) map.delete(map.keys().next().value);
}

function join(t, d) {
  state.joined++;
  if (state.joined <= skip) return;
  state.counted++;
  let best = 0;
  for (const c of d.explanation.candidates) {
    const v = t.arms[c.promotionId];
    if (v === undefined) continue;
    if (v > best) best = v;
    if (c.promotionId !== "control") state.fixed.set(c.promotionId, (state.fixed.get(c.promotionId) ?? 0) + v);
  }
  state.engine += t.arms[d.promotionId] ?? 0;
  state.oracle += best;
  state.arms.set(d.promotionId, (state.arms.get(d.promotionId) ?? 0) + 1);
}

function report() {
  const fixed = [...state.fixed].sort((a, b) => b[1] - a[1]);
  const share = (x) => (state.oracle > 0 ? Math.round((1000 * x) / state.oracle) / 1000 : null);
  return {
    decisions: state.counted,
    engineShareOfOracle: share(state.engine),
    bestFixed: fixed[0]?.[0] ?? null,
    bestFixedShareOfOracle: fixed.length ? share(fixed[0][1]) : null,
    fixedShareOfOracle: Object.fromEntries(fixed.map(([id, v]) => [id, share(v)])),
    engineMarginCents: Math.round(state.engine),
    oracleMarginCents: Math.round(state.oracle),
    armShare: Object.fromEntries([...state.arms].map(([id, n]) => [id, Math.round((1000 * n) / Math.max(1, state.counted)) / 1000])),
  };
}

const truthSub = nc.subscribe("sim.truth");
const decisionSub = nc.subscribe("decisions.>");
(async () => {
  for await (const m of truthSub) {
    const t = m.json();
    const d = decisions.get(t.eventId);
    if (d) {
      decisions.delete(t.eventId);
      join(t, d);
    } else remember(truths, t.eventId, t);
  }
})();
(async () => {
  for await (const m of decisionSub) {
    const d = m.json();
    if (seen.has(d.id) || d.holdout || d.reason === "nothing-eligible") continue;
    remember(seen, d.id, true);
    const t = truths.get(d.eventId);
    if (t) {
      truths.delete(d.eventId);
      join(t, d);
    } else remember(decisions, d.eventId, d);
  }
})();
console.error(`joining sim.truth with decisions.> on ${url} for ${seconds} s`);
const timer = setInterval(() => console.error(JSON.stringify(report())), 10_000);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(timer);
console.log(JSON.stringify(report()));
// Closed rather than drained: nothing is counted after the report, and a drain waits for a server that is away.
await nc.close();
