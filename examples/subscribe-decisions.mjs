#!/usr/bin/env node
// A third-party subscriber: reads promo-stream decisions with the classic `nats` client and prints
// one JSON line per decision. Nothing of promo-stream is imported; the stream, subjects and JSON are
// the contract.
//
// It reads the DECISIONS stream through JetStream, not a plain subscription on `decisions.>`: after a
// crash the processor publishes again the decisions it had not acknowledged yet, with the same msg id.
// The stream stores each once (Nats-Msg-Id), but a core NATS subscriber would see the copies too.
//
//   NATS_URL=nats://127.0.0.1:4222 node examples/subscribe-decisions.mjs [--count N] [--from-start] [--durable NAME]
//
// By default an ordered consumer from the next decision on (nothing is kept on the server); --from-start
// reads the stream from its first decision; --durable NAME uses a durable consumer of that name, which
// acknowledges each decision and resumes after the last one acknowledged when run again.
import { AckPolicy, connect, DeliverPolicy } from "nats";

const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const count = Number(arg("--count") ?? Infinity);
const fromStart = process.argv.includes("--from-start");
const durable = arg("--durable");
const stream = process.env.DECISIONS_STREAM ?? "DECISIONS";

// A NATS server away (promo-stream restarting, a network blip) is waited for however long it takes, and
// said so on stderr; a server not there at all, or without the stream, stops it with a line that says so.
const stop = (why) => {
  console.error(`subscribe-decisions: ${why}`);
  process.exit(1);
};
const nc = await connect({ servers: url, name: "example-subscribe-decisions", maxReconnectAttempts: -1 }).catch((err) =>
  stop(`cannot connect to NATS at ${url} (${err.chainedError?.message ?? err.message}); is promo-stream running there? NATS_URL names its NATS server`),
);
(async () => {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") console.error(`lost NATS at ${s.data}; waiting for it, then reading on from the last decision shown`);
    if (s.type === "reconnect") console.error(`reconnected to NATS at ${s.data}`);
  }
})();
const js = nc.jetstream();
const jsm = await nc.jetstreamManager();
// Where to begin: the first decision, or the one after the newest stored now. (A start sequence
// rather than deliver_policy all/new: nats.js 2.29's ordered consumer adds a start sequence to those,
// which nats-server refuses.)
const info = await jsm.streams.info(stream).catch((err) =>
  err.api_error?.err_code === 10059 // stream not found
    ? stop(`no stream ${stream} on ${url}: promo-stream creates it when it starts (npm start); a shop with a stream name of its own: DECISIONS_STREAM=<its name>`)
    : Promise.reject(err),
);
const opt_start_seq = fromStart ? 1 : info.state.last_seq + 1;
let consumer;
let resuming = false;
if (durable) {
  // Created on the first run; a later run resumes after its last acknowledged decision.
  const exists = await jsm.consumers.info(stream, durable).then(
    () => true,
    (err) => (err.api_error?.err_code === 10014 ? false : Promise.reject(err)), // 10014: consumer not found
  );
  if (!exists) await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq });
  // An existing one keeps its place whatever the flags say (as a Kafka consumer group's committed
  // offset outranks --from-beginning); said so, rather than a "from the start" that is not true.
  else if (fromStart) console.error(`--from-start applies when the durable consumer is made; ${durable} exists and resumes after its last acknowledged decision. To read from the first decision again, give a new --durable name or delete this one (nats consumer rm ${stream} ${durable})`);
  consumer = await js.consumers.get(stream, durable);
  resuming = exists;
} else {
  consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq });
}
console.error(`reading ${stream} on ${url} (${durable ? `durable consumer ${durable}` : "ordered consumer"}, ${resuming ? "resuming after its last acknowledged decision" : fromStart ? "from the start" : "new decisions"})`);
const messages = await consumer.consume();
let n = 0;
for await (const m of messages) {
  const { id, ts, customerId, channel, promotionId, segment, propensity, eventId } = m.json();
  console.log(JSON.stringify({ subject: m.subject, seq: m.seq, id, ts, customerId, channel, promotionId, segment, propensity, eventId }));
  if (durable) m.ack();
  if (++n >= count) break;
}
await nc.drain();
