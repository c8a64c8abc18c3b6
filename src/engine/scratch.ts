// What one decision carries from step to step (decide.ts), and the buffers it reuses: one per engine,
// no allocation per arm, no module-level state.
import type { SegmentRule } from "../config/index.ts";
import { DecisionContrast, ScoreArms, type ArmPrediction } from "../bandit/index.ts";
import type { Channel, CustomerEvent, Decision, DecisionPoint, ExclusionReason } from "../events/index.ts";
import type { CustomerState } from "../features/index.ts";
import { emptyContext, type SharedContext } from "./context.ts";
import { EligibilityCache } from "./eligibility.ts";
import type { DecisionProduct } from "./margin.ts";
import { PolicyScratch } from "./policy.ts";
import { segmentOf } from "./segments.ts";
import type { Promotion } from "./types.ts";

/** The tabular model's cell: the decision point's kind and the customer's segment. */
export function cellOf(point: DecisionPoint, segment: string): string {
  return `${point}|${segment}`;
}

/**
 * The few distinct segment labels and cells, one string each. segmentOf builds the label by
 * concatenating its rules' labels at every decision, and the open decision keeps it and its cell
 * until it closes (minutes to days): a chain of concatenated pieces per decision, ~180 bytes that
 * every young-generation collection copied (bench/decide.bench.ts heap sampling, issue #16). Here
 * each rule's label (segmentOf of that rule alone: the same evaluation, no concatenation) leads
 * through a trie to the one string of the whole label, built once by segmentOf. Bounded: past
 * MAX_LABELS labels (only "label" rules take theirs from the data) it starts over.
 */
class Labels {
  private rules: readonly SegmentRule[] | undefined;
  private single: (readonly SegmentRule[])[] = [];
  private trie = new Map<string, unknown>();
  private count = 0;
  private readonly cells = new Map<string, Map<string, string>>();

  segment(ctx: object, rules: readonly SegmentRule[]): string {
    if (rules.length === 0) return segmentOf(ctx, rules);
    if (rules !== this.rules) {
      this.rules = rules;
      this.single = rules.map((r) => [r]);
      this.forget();
    }
    let node = this.trie;
    const last = rules.length - 1;
    for (let i = 0; ; i++) {
      const label = segmentOf(ctx, this.single[i]!);
      let next = node.get(label);
      if (next === undefined) {
        if (this.count >= MAX_LABELS) {
          this.forget();
          return this.segment(ctx, rules);
        }
        // A label not seen yet: the whole of it as segmentOf writes it, kept at its leaf.
        next = i === last ? segmentOf(ctx, rules) : new Map<string, unknown>();
        node.set(label, next);
        this.count++;
      }
      if (i === last) return next as string;
      node = next as Map<string, unknown>;
    }
  }

  private forget(): void {
    this.trie = new Map();
    this.count = 0;
    this.cells.clear();
  }

  cell(point: DecisionPoint, segment: string): string {
    let byPoint = this.cells.get(segment);
    if (!byPoint) this.cells.set(segment, (byPoint = new Map()));
    let c = byPoint.get(point);
    if (c === undefined) byPoint.set(point, (c = cellOf(point, segment)));
    return c;
  }
}

const MAX_LABELS = 4096;

/**
 * One decision as it goes through decide()'s steps: where it is made, for whom, its arms (the eligible
 * promotions, then control) with each one's margin if bought and reservation, and what was excluded.
 */
export class DecisionWork {
  ev!: CustomerEvent;
  point!: DecisionPoint;
  product: DecisionProduct | undefined;
  channel!: Channel;
  customer!: CustomerState;
  segment = "";
  cell = "";
  /** The customer's category weights (decisions with no product: the expected margin). */
  weights: Map<string, number> | undefined;
  /** Whether margins are needed: the margin objective, or a replayed decision's report. */
  needMargins = false;
  /** The arms: ids, promotions (undefined for control), margin if bought (cents), reservation (cents). */
  ids: string[] = [];
  promos: (Promotion | undefined)[] = [];
  margins: number[] = [];
  reserved: number[] = [];
  excluded: Decision["explanation"]["excluded"] = [];
}

/** Per-decision buffers an engine reuses. */
export class DecideScratch {
  work = new DecisionWork();
  /** Feature rows, one per arm (logistic model). */
  x = new Float64Array(0);
  shared: SharedContext = emptyContext();
  weights = new Map<string, number>();
  pred: ArmPrediction = { full: 0, plain: 0, sd: 0 };
  /** The decision's two greedy picks, with and without the arms' context terms (the context evidence). */
  contrast = new DecisionContrast();
  beta = { alpha: 0, beta: 0 };
  /** Each arm's score distribution, and the policy's own buffers. */
  arms = new ScoreArms();
  policy = new PolicyScratch();
  /** The learner's probability per arm (safe start's estimates). */
  pi: number[] = [];
  /** Segment labels and cells, one string each. */
  labels = new Labels();
  /** The static guards per (channel, product) (eligibility.ts). */
  eligibility = new EligibilityCache();
  /** Per promotion (the eligibility generation's order): its dynamic exclusion at this decision. */
  dynamicWhy: (ExclusionReason | undefined)[] = [];
}
