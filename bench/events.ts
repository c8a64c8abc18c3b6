// The benchmark's input: the simulator's default mix (config/default.json's simulator section and
// scenario), with the shoppers reacting to the decisions of an engine run in process, as
// test/integration/crash.test.ts builds its input. Generated once per run, encoded once, and then
// published by the sections that need it: the preload of the bus and pipeline sections, and the paced
// feed of the latency and fan-out sections (which continue the same stream, so event times keep
// moving forward and no event arrives late for the engine).
import type { Config } from "../src/config/index.ts";
import { createEngine, engineConfigFrom, step } from "../src/engine/index.ts";
import { encodeEvent, Subjects, type ShopEvent } from "../src/events/index.ts";
import { rngFromKey } from "../src/random/index.ts";
import { loadScenario, World, worldFromConfig } from "../simulator/index.ts";

/** One event ready to publish: subject by type and partition, msg id = event id (as the simulator). */
export interface WireEvent {
  subject: string;
  data: Uint8Array;
  id: string;
  /** The processor answers it with a decision (the in-process engine decided at it: the same engine on the same events). */
  decisionPoint: boolean;
}

export interface EventMix {
  counts: Record<string, number>;
  decisionPointShare: number;
  meanBytes: number;
}

/** A generator of the default mix: call `take(n)` for the next n events of one continuous stream. */
export class EventSource {
  private readonly world: World;
  private readonly engine;
  private readonly subjects: Subjects;
  private buffer: ShopEvent[] = [];
  /** Ids of the buffered events the in-process engine decided at. */
  private readonly decided = new Set<string>();
  private points = 0;
  private t: number;
  readonly counts: Record<string, number> = {};
  private bytes = 0;
  private n = 0;

  constructor(private readonly cfg: Readonly<Config>) {
    this.world = worldFromConfig(cfg, loadScenario(cfg.simulator.scenario), { runId: "bench" });
    this.engine = createEngine(engineConfigFrom(cfg));
    this.subjects = new Subjects(cfg.nats.subjectPrefix);
    this.t = this.world.nowMs;
  }

  take(n: number): WireEvent[] {
    while (this.buffer.length < n) {
      this.t += 1000;
      for (const o of this.world.advance(this.t)) {
        if (o.kind !== "event") continue;
        this.buffer.push(o.event);
        for (const eff of step(this.engine, o.event, rngFromKey(this.cfg.processor.seed, o.event.id)))
          if (eff.kind === "decision") {
            this.decided.add(o.event.id);
            this.world.onDecision(eff.decision);
          }
      }
    }
    const out = this.buffer.splice(0, n).map((e) => this.wire(e));
    return out;
  }

  private wire(e: ShopEvent): WireEvent {
    const subject = this.subjects.forEvent(e, this.cfg.partitions);
    const data = encodeEvent(e);
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
    this.bytes += data.byteLength;
    this.n++;
    const decisionPoint = this.decided.delete(e.id);
    if (decisionPoint) this.points++;
    return { subject, data, id: e.id, decisionPoint };
  }

  mix(): EventMix {
    return { counts: { ...this.counts }, decisionPointShare: this.n ? this.points / this.n : 0, meanBytes: this.n ? this.bytes / this.n : 0 };
  }
}
