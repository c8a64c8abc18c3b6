#!/usr/bin/env node
// A third-party subscriber: reads promo-stream decisions with the classic `nats` client and prints
// one JSON line per decision. Nothing of promo-stream is imported; the subjects and JSON are the contract.
//
//   NATS_URL=nats://127.0.0.1:4222 node examples/subscribe-decisions.mjs [--count N]
import { connect } from "nats";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const i = process.argv.indexOf("--count");
const count = i > 0 ? Number(process.argv[i + 1]) : Infinity;

const nc = await connect({ servers: url, name: "example-subscribe-decisions" });
console.error(`subscribed to decisions.> on ${url}`);
const sub = nc.subscribe("decisions.>", { max: Number.isFinite(count) ? count : undefined });
for await (const m of sub) {
  const d = m.json();
  const { id, ts, customerId, channel, promotionId, segment, propensity, eventId } = d;
  console.log(JSON.stringify({ subject: m.subject, id, ts, customerId, channel, promotionId, segment, propensity, eventId }));
}
await nc.drain();
