#!/usr/bin/env node
// A third-party reader of outcomes: how each promo-stream decision ended (redeemed, purchased without
// the offer, expired, or closed early as overflow), read with the classic `nats` client and printed as
// one JSON line per outcome. Nothing of promo-stream is imported; the stream, subjects and JSON are the
// contract (GET /api/schema/outcome.json on the dashboard server).
//
// It reads the OUTCOMES stream through JetStream, not a plain subscription on `outcomes.>`: after a
// crash the processor publishes again the outcomes of the events it had not acknowledged yet, with the
// same msg id (o-<decision id>). The stream stores each once, but a core NATS subscriber would see the
// copies too.
//
//   NATS_URL=nats://127.0.0.1:4222 node examples/subscribe-outcomes.mjs [--count N] [--from-start] [--durable NAME]
//
// By default an ordered consumer from the next outcome on (nothing is kept on the server); --from-start
// reads the stream from its first outcome; --durable NAME uses a durable consumer of that name, which
// acknowledges each outcome and resumes after the last one acknowledged when run again.
import { AckPolicy, connect, DeliverPolicy } from "nats";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const count = Number(arg("--count") ?? Infinity);
const fromStart = process.argv.includes("--from-start");
const durable = arg("--durable");
const stream = process.env.OUTCOMES_STREAM ?? "OUTCOMES";

// A NATS server away (promo-stream restarting, a network blip) is waited for however long it takes, and
// said so on stderr; a server not there at all, or without the stream, stops it with a line that says so.
const stop = (why) => {
  console.error(`subscribe-outcomes: ${why}`);
  process.exit(1);
};
const nc = await connect({ servers: url, name: "example-subscribe-outcomes", maxReconnectAttempts: -1 }).catch((err) =>
  stop(`cannot connect to NATS at ${url} (${err.chainedError?.message ?? err.message}); is promo-stream running there? NATS_URL names its NATS server`),
);
(async () => {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") console.error(`lost NATS at ${s.data}; waiting for it, then reading on from the last outcome shown`);
    if (s.type === "reconnect") console.error(`reconnected to NATS at ${s.data}`);
  }
})();
const js = nc.jetstream();
const jsm = await nc.jetstreamManager();
// Where to begin: the first outcome, or the one after the newest stored now. (A start sequence rather
// than deliver_policy all/new: nats.js 2.29's ordered consumer adds a start sequence to those, which
// nats-server refuses.)
const info = await jsm.streams.info(stream).catch((err) =>
  err.api_error?.err_code === 10059 // stream not found
    ? stop(`no stream ${stream} on ${url}: promo-stream creates it when it starts (npm start); a shop with a stream name of its own: OUTCOMES_STREAM=<its name>`)
    : Promise.reject(err),
);
const opt_start_seq = fromStart ? 1 : info.state.last_seq + 1;
let consumer;
let resuming = false;
if (durable) {
  // Created on the first run; a later run resumes after its last acknowledged outcome.
  const exists = await jsm.consumers.info(stream, durable).then(
    () => true,
    (err) => (err.api_error?.err_code === 10014 ? false : Promise.reject(err)), // 10014: consumer not found
  );
  if (!exists) await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq });
  // An existing one keeps its place whatever the flags say (as a Kafka consumer group's committed
  // offset outranks --from-beginning); said so, rather than a "from the start" that is not true.
  else if (fromStart) console.error(`--from-start applies when the durable consumer is made; ${durable} exists and resumes after its last acknowledged outcome. To read from the first outcome again, give a new --durable name or delete this one (nats consumer rm ${stream} ${durable})`);
  consumer = await js.consumers.get(stream, durable);
  resuming = exists;
} else {
  consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq });
}
console.error(`reading ${stream} on ${url} (${durable ? `durable consumer ${durable}` : "ordered consumer"}, ${resuming ? "resuming after its last acknowledged outcome" : fromStart ? "from the start" : "new outcomes"})`);
const messages = await consumer.consume();
let n = 0;
for await (const m of messages) {
  // The whole record: it is small, and every field is what a data team joins or sums on
  // (decisionId to the decision, propensity for off-policy estimates, reward and cents for value).
  console.log(JSON.stringify({ subject: m.subject, seq: m.seq, ...m.json() }));
  if (durable) m.ack();
  if (++n >= count) break;
}
await nc.drain();
