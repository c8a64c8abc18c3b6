// The dead-letter path's logging: a shop's bad event is a warning once per reason; an event
// promo-stream published itself (a partition's sync, stock, allowance, a promotion or mode change)
// refused by the schema is an error of ours, once per type, never hidden behind the shop's own.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../log/index.ts";
import { Subjects } from "../../events/index.ts";
import { createMetrics } from "../../metrics/index.ts";
import { DeadLetters } from "./deadletter.ts";

function setup() {
  const lines: { level: number; msg: string; kind: string; subject: string }[] = [];
  const log = createLogger("info", "test", { write: (s: string) => void lines.push(JSON.parse(s)) });
  const published: { subject: string; reason: string | undefined }[] = [];
  const dl = new DeadLetters(async (subject, _data, _id, hdrs) => void published.push({ subject, reason: hdrs["Ps-Reason"] }), new Subjects("shop1."), createMetrics(), log);
  return { dl, lines, published };
}
const bytes = (s: string) => new TextEncoder().encode(s);

describe("dead letters", () => {
  it("log a shop's bad events as a warning once per reason, and promo-stream's own as an error once per type", async () => {
    const { dl, lines, published } = setup();
    await dl.send("invalid", "/x: Unexpected property", { subject: "shop1.events.view.3", data: bytes("{}"), seq: 1 }, 0);
    await dl.send("invalid", "/y: Unexpected property", { subject: "shop1.events.click.1", data: bytes("{}"), seq: 2 }, 0);
    await dl.send("invalid", "/logistic/centre: Unexpected property", { subject: "shop1.events.sync.2", data: bytes("{}"), seq: 3 }, 0);
    await dl.send("invalid", "/logistic/centre: Unexpected property", { subject: "shop1.events.sync.5", data: bytes("{}"), seq: 4 }, 0);
    await dl.send("invalid", "/total: Expected integer", { subject: "shop1.events.allowance.0", data: bytes("{}"), seq: 5 }, 0);
    // Every one is published with its reason and counted; the log says each kind once.
    expect(published).toHaveLength(5);
    expect(published.every((p) => p.subject === "shop1.deadletter.events" && p.reason === "invalid")).toBe(true);
    expect(dl.counts.invalid).toBe(5);
    expect(lines.map((l) => [l.level, l.kind, l.subject])).toEqual([
      [40, "deadletter:invalid", "shop1.events.view.3"],
      [50, "deadletter:invalid:sync", "shop1.events.sync.2"],
      [50, "deadletter:invalid:allowance", "shop1.events.allowance.0"],
    ]);
    expect(lines[1]!.msg).toMatch(/promo-stream's own sync event dead-lettered/);
  });

  it("say why promo-stream's own event was refused when the schema took it: a copy already handled, a time the engine does not admit", async () => {
    // A stock copy published again after EVENTS' duplicate window (an inventory consumer made again
    // re-publishes copies under their ids: README "Its consumer deleted") is handled once, harmlessly;
    // blaming the schema, other versions or a bug sent an operator looking for the wrong thing.
    const { dl, lines } = setup();
    await dl.send("duplicate", "event id inv-1.s2 was already processed", { subject: "shop1.events.stock.2", data: bytes("{}"), seq: 7, eventId: "inv-1.s2" }, 0);
    await dl.send("late", "ts 1 is 900000 ms behind the newest event (allowed 300000)", { subject: "shop1.events.stock.3", data: bytes("{}"), seq: 8, eventId: "inv-2.s3" }, 0);
    await dl.send("invalid", "/stock: Expected integer", { subject: "shop1.events.stock.1", data: bytes("{}"), seq: 9 }, 0);
    expect(lines.map((l) => [l.level, l.kind])).toEqual([
      [40, "deadletter:duplicate:stock"],
      [50, "deadletter:late:stock"],
      [50, "deadletter:invalid:stock"],
    ]);
    expect(lines[0]!.msg).toMatch(/already handled/);
    expect(lines[0]!.msg).not.toMatch(/schema/);
    expect(lines[1]!.msg).toMatch(/time/);
    expect(lines[1]!.msg).not.toMatch(/schema/);
    expect(lines[2]!.msg).toMatch(/schema refuses/);
  });
});
