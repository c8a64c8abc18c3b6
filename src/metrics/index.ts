import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Every metric of one process, on its own registry (tests start several parts in one process).
 * `reward`: the engine's objective (bandit.reward), the unit of safe start's figures. With conversion
 * their HELP says conversions; the names keep `_cents` (renaming would break dashboards and alerts).
 */
export function createMetrics(opts: { reward?: "margin" | "conversion" } = {}) {
  const conversion = opts.reward === "conversion";
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ps_node_" });
  const r = [registry];
  return {
    registry,
    eventsIn: new Counter({ name: "ps_events_in_total", help: "Events consumed by the processor", labelNames: ["type"] as const, registers: r }),
    decisionsOut: new Counter({ name: "ps_decisions_out_total", help: "Decisions published to decisions.<channel> (not those a restart's replay skipped: stored before it)", labelNames: ["channel", "arm"] as const, registers: r }),
    deadLetters: new Counter({ name: "ps_dead_letters_total", help: "Messages dead-lettered, by reason", labelNames: ["reason"] as const, registers: r }),
    outcomes: new Counter({ name: "ps_outcomes_total", help: "Decisions closed, by cause", labelNames: ["cause"] as const, registers: r }),
    outcomesOut: new Counter({ name: "ps_outcomes_out_total", help: "Outcome records published to outcomes.<channel> (not those a restart's replay skipped: stored before it)", labelNames: ["channel", "closed_by"] as const, registers: r }),
    consumerLag: new Gauge({ name: "ps_consumer_lag", help: "Messages in EVENTS not yet delivered to the processor", registers: r }),
    consumerAckPending: new Gauge({ name: "ps_consumer_ack_pending", help: "Messages delivered but not yet acknowledged", registers: r }),
    decideLatency: new Histogram({
      name: "ps_decide_latency_seconds",
      help: "Time to decide one decision point (decode to decision, in process)",
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: r,
    }),
    cacheCustomers: new Gauge({ name: "ps_feature_cache_customers", help: "Customers held in the feature cache", registers: r }),
    cacheEvictions: new Gauge({ name: "ps_feature_cache_evictions_total", help: "Customers evicted from the feature cache (LRU bound: features.maxMemoryMb, or features.maxCustomers)", registers: r }),
    cacheBytes: new Gauge({ name: "ps_feature_cache_bytes", help: "Memory the feature cache counts as its own (columns, records, id index, hot set), bounded by features.maxMemoryMb", registers: r }),
    cacheExpirations: new Gauge({ name: "ps_feature_cache_expirations_total", help: "Customers forgotten after idle TTL", registers: r }),
    pendingDecisions: new Gauge({ name: "ps_pending_decisions", help: "Decisions waiting for their outcome", registers: r }),
    streamUsage: new Gauge({ name: "ps_stream_usage_ratio", help: "Stream bytes over its max_bytes", labelNames: ["stream"] as const, registers: r }),
    syncEvents: new Counter({
      name: "ps_sync_events_total",
      help: "Sync events (what a partition learned, in parts) a partitioned instance published, by result (failed: not stored; the other partitions go on with the older share)",
      labelNames: ["result"] as const,
      registers: r,
    }),
    eventsLost: new Counter({ name: "ps_events_lost_total", help: "Events the stream no longer held when the processor came to them (removed by its limits, or deleted)", registers: r }),
    checkpoints: new Counter({ name: "ps_checkpoints_total", help: "Checkpoints written to KV", registers: r }),
    checkpointBytes: new Gauge({ name: "ps_checkpoint_bytes", help: "Bytes the last checkpoint wrote (its delta, and a base when it began one)", registers: r }),
    checkpointSeconds: new Histogram({ name: "ps_checkpoint_seconds", help: "Time to serialise and write a checkpoint", buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r }),
    checkpointPauseSeconds: new Histogram({ name: "ps_checkpoint_pause_seconds", help: "Time the processor stops handling events to start a checkpoint (copy the small parts, list the large ones; the rest runs beside the loop)", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r }),
    consumerRepositions: new Counter({
      name: "ps_consumer_repositions_total",
      help: "Times the processor put its consumer back at the first event it had not handled, because deliveries never reached it (reason: deliveries-lost, deliveries-stalled, stream-holds-gap) or its durable consumer was gone (consumer-missing)",
      labelNames: ["reason"] as const,
      registers: r,
    }),
    decideRequests: new Counter({
      name: "ps_decide_requests_total",
      help: "Decide requests (POST /api/decide, decide.<channel>) by outcome: decided, no-decision, timeout, invalid, shed (over decide.maxInFlight), unavailable",
      labelNames: ["outcome"] as const,
      registers: r,
    }),
    decideSeconds: new Histogram({
      name: "ps_decide_request_seconds",
      help: "Time to answer a decide request, from its arrival to its answer",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    redelivered: new Counter({ name: "ps_redelivered_total", help: "Events delivered again after the processor had handled them (skipped)", registers: r }),
    replaySuppressed: new Counter({ name: "ps_replay_suppressed_total", help: "Publishes skipped while replaying events already handled before a restart", registers: r }),
    // POST /api/track (src/server/track.ts: TrackResult.ignored and .dropped are what to add). Labels
    // stay bounded: kinds are Segment's methods, and fields the spec does not name are counted as `*`.
    trackIgnored: new Counter({
      name: "ps_track_ignored_total",
      help: "Segment calls to /api/track counted and ignored, by kind (identify, page, screen, group, alias; track: a track event not mapped)",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    trackDroppedFields: new Counter({
      name: "ps_track_dropped_fields_total",
      help: "Fields of mapped Segment calls the event contract cannot hold, by field (once per call; custom fields as properties.*)",
      labelNames: ["field"] as const,
      registers: r,
    }),
    // Safe start (issue 23), from the processor's snapshot.
    policyMode: new Gauge({ name: "ps_policy_mode", help: "The policy's mode: 1 for the current one (learner, apprentice, conservative)", labelNames: ["mode"] as const, registers: r }),
    baselineServedRatio: new Gauge({
      name: "ps_baseline_served_ratio",
      help: "Share of the current mode's decisions served by the shop's rule (policy.baseline): apprentice, those not explored; conservative, the bound's fallbacks",
      registers: r,
    }),
    modeDecisions: new Gauge({ name: "ps_mode_decisions", help: "Decisions made since the current policy mode began (safe start: apprentice or conservative; 0 in learner mode)", registers: r }),
    apprenticeEvidenceCents: new Gauge({
      name: "ps_apprentice_evidence_cents",
      help: conversion
        ? "Apprentice: the learner's conversions per decision minus the shop's rule's (doubly robust; est, and the 95% interval's lo and hi), in conversions, not cents: bandit.reward is conversion"
        : "Apprentice: the learner's margin per decision minus the shop's rule's (doubly robust; est, and the 95% interval's lo and hi), cents",
      labelNames: ["bound"] as const,
      registers: r,
    }),
    conservativeSlackCents: new Gauge({
      name: "ps_conservative_slack_cents",
      help: conversion
        ? "The conservative bound's slack, lower confidence bound (conversions, not cents: bandit.reward is conversion; the learner serves while it covers its worst case)"
        : "The conservative bound's slack, lower confidence bound (cents of margin; the learner serves while it covers its worst case)",
      registers: r,
    }),
    wsClients: new Gauge({ name: "ps_ws_clients", help: "Open WebSocket clients", registers: r }),
    wsDroppedFrames: new Counter({ name: "ps_ws_dropped_frames_total", help: "WebSocket frames skipped for slow clients", registers: r }),
    wsDroppedClients: new Counter({ name: "ps_ws_dropped_clients_total", help: "Slow WebSocket clients disconnected", registers: r }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
