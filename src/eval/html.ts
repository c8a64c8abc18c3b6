// The report pages: one self-contained HTML file each (inline CSS and SVG, no scripts, no network),
// written for a reader who has never seen the project.
import type { OfflineReport } from "./offline.ts";
import type { SimReport } from "./simreport.ts";
import type { WhatIfReport } from "./whatif.ts";
import { esc, intervalChart, lineChart, PALETTE } from "./svg.ts";

const CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1a1a1a;line-height:1.5}
h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.2em;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child,td.l{text-align:left}th{background:#f5f5f5}.muted{color:#666;font-size:.9em}
.key{background:#f3f8fc;border-left:4px solid #0072B2;padding:8px 14px;margin:12px 0}.ok{color:#087f23}.bad{color:#b00020}
code{background:#f3f3f3;padding:1px 4px;border-radius:3px}figure{margin:12px 0}svg{max-width:100%;height:auto}`;

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title><style>${CSS}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

/** Cents as dollars with two decimals, without the "-0.00" of an amount under half a cent below zero. */
export function dollars2(cents: number): string {
  const s = (cents / 100).toFixed(2);
  return s === "-0.00" ? "0.00" : s;
}

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(d)}%`);
const yes = (b: boolean) => (b ? `<span class="ok">yes</span>` : `<span class="bad">no</span>`);

const POLICY_TEXT: Record<string, string> = {
  uniform: "picks one of the three arms at random",
  engine: "the engine as configured (bandit.model): Thompson sampling on its conversion model, with a random control share",
  ts: "the engine's tabular model with one segment for everybody (no context)",
  "ts-segmented": "the engine's tabular model: a Beta posterior per customer segment",
  "ts-logistic": "the engine's logistic model over the customer's columns (recency, history, lines bought, newbie, channel, area)",
  "epsilon-greedy": "the arm with the best average so far; a random arm 10% of the time",
};

export function replayHtml(r: OfflineReport): string {
  const binary = r.metric !== "spend";
  const fmt = (v: number) => (binary ? v.toFixed(4) : `$${v.toFixed(3)}`);
  const fmtU = (v: number) => (binary ? `${(100 * v).toFixed(1)} pts` : `$${v.toFixed(3)}`);
  const names = Object.keys(r.policies);
  const colors = Object.fromEntries(names.map((n, i) => [n, PALETTE[i % PALETTE.length]!]));
  const best = r.summary.bestFixed;
  // With --baseline the policy compared against is the rule ("baseline"), not a "fixed:<arm>".
  const bestLabel = best.startsWith("fixed:") ? best.slice("fixed:".length) : r.baseline ? `${r.baseline.name} (the baseline)` : best;
  const ts = r.policies["engine"]!;
  // The first few hundred rows swing widely (few kept rows): scale the axis to the rest.
  const from = Math.floor(r.curves.rows.length / 10);
  const settled = names.flatMap((n) => r.curves.series[n]!.slice(from).filter((y): y is number => y !== null));
  const lo = Math.min(...settled);
  const hi = Math.max(...settled);
  const chart = lineChart({
    yRange: settled.length && hi > lo ? [lo - (hi - lo) * 0.15, hi + (hi - lo) * 0.15] : undefined,
    title: `Cumulative ${r.metric} per kept decision, as the replay walks the log (mean of ${r.seeds} seeds)`,
    xLabel: "rows of the log walked",
    yLabel: binary ? `mean ${r.metric} (0–1)` : "mean spend ($)",
    xs: r.curves.rows,
    series: names.map((n) => ({ name: n, ys: r.curves.series[n]!, color: colors[n]!, dash: n.startsWith("fixed:") })),
    format: binary ? (v) => v.toFixed(3) : (v) => `$${dollars2(100 * v)}`,
  });
  const upl = intervalChart({
    title: `Uplift of each e-mail over no e-mail (${r.metric}), 95% intervals`,
    xLabel: binary ? `difference in ${r.metric} rate (arm − control)` : "difference in mean spend ($, arm − control)",
    rows: Object.entries(r.uplift).map(([arm, u]) => ({
      label: arm,
      items: [
        { name: "engine (holdout vs arm)", estimate: u.estimate, ci95: u.ci95, color: PALETTE[0] },
        { name: "experiment (whole log)", estimate: u.experiment, ci95: u.experimentCi95, color: PALETTE[1] },
      ],
    })),
    format: binary ? (v) => v.toFixed(3) : (v) => `$${dollars2(100 * v)}`,
  });
  const rows = names
    .map((n) => {
      const p = r.policies[n]!;
      const what = POLICY_TEXT[n] ?? (n.startsWith("fixed:") ? `always sends “${n.slice(6)}”` : "");
      return `<tr><td><b style="color:${colors[n]}">${esc(n)}</b><br><span class="muted">${esc(what)}</span></td><td>${fmt(p.value)}</td><td>[${fmt(p.ci95[0])}, ${fmt(p.ci95[1])}]</td><td>${p.matched.toLocaleString("en-US")}</td><td>${p.controlShare !== undefined ? pct(p.controlShare) : "–"}</td><td>${p.controlMatched ?? "–"}</td><td>${p.ips ? `${fmt(p.ips.value)}<br><span class="muted">[${fmt(p.ips.ci95[0])}, ${fmt(p.ips.ci95[1])}]</span>` : "–"}</td><td>${p.snips ? `${fmt(p.snips.value)}<br><span class="muted">[${fmt(p.snips.ci95[0])}, ${fmt(p.snips.ci95[1])}]</span>` : "–"}</td></tr>`;
    })
    .join("\n");
  const verdict = (v: string) => (v === "better" ? `<span class="ok">better</span>` : v === "worse" ? `<span class="bad">worse</span>` : "cannot tell");
  const prows = Object.entries(r.paired)
    .map(([n, p]) =>
      Number.isFinite(p.mean)
        ? `<tr><td>${esc(n)}</td><td>${fmt(p.mean)}</td><td>[${fmt(p.ci95[0])}, ${fmt(p.ci95[1])}]</td><td>${pct(p.mean / r.policies[best]!.value)}</td><td>${verdict(p.verdict)}</td></tr>`
        : `<tr><td>${esc(n)}</td><td>–</td><td>–</td><td>–</td><td>cannot tell (a run kept no rows)</td></tr>`,
    )
    .join("\n");
  const urows = Object.entries(r.uplift)
    .map(([a, u]) => `<tr><td>${esc(a)}</td><td>${fmtU(u.estimate)}</td><td>[${fmtU(u.ci95[0])}, ${fmtU(u.ci95[1])}]</td><td>${fmtU(u.experiment)}</td><td>[${fmtU(u.experimentCi95[0])}, ${fmtU(u.experimentCi95[1])}]</td><td>${yes(r.summary.upliftCoversExperiment[a]!)}</td><td>${pct(u.coverage, 0)}</td><td>${u.armRows.toLocaleString("en-US")} / ${u.holdoutRows.toLocaleString("en-US")}</td></tr>`)
    .join("\n");
  const arms = Object.entries(r.experiment.arms)
    .map(([a, x]) => `${esc(a)}: ${fmt(x.mean)} (${x.rows.toLocaleString("en-US")} rows)`)
    .join("; ");
  const segs = r.settings.segments.length ? r.settings.segments.map((s) => `<code>${esc(s.op === "label" ? `${s.feature} (its value) or ${s.else}` : `${s.feature} ${s.op} ${JSON.stringify(s.value)} ? ${s.then} : ${s.else}`)}</code>`).join(", ") : "none";
  const body = `
<h1>Does the promotion engine learn? Offline replay of a real e-mail experiment</h1>
<p class="muted">Data: <code>${esc(r.dataset)}</code> · ${r.rows.toLocaleString("en-US")} customers · reward: <b>${esc(r.metric)}</b> (${esc(r.unit)}) · ${r.seeds} seeds</p>
<p>In this experiment every customer was sent, <b>at random with probability 1/3 each</b>, a men's-merchandise e-mail, a women's-merchandise e-mail, or no e-mail, and the shop recorded whether they then visited, bought, and how much they spent. Because the assignment was random, we can ask after the fact how a decision-making policy <i>would</i> have done: walk through the customers in the file's order, let the policy choose an e-mail for each one from what it knows about them, and keep only the customers for whom its choice happens to be the e-mail they really got (Li, Chu, Langford &amp; Wang, 2011). Those kept customers are a fair sample of the ones the policy would have met, and the policy learns only from them, as it would have live.</p>
<div class="key"><b>Result.</b> The best single e-mail for everyone is <b>${esc(bestLabel)}</b> (${fmt(r.policies[best]!.value)}). The engine (<b>${esc(r.settings.bandit.model)}</b> model) reaches ${fmt(ts.value)}, <b>${pct(r.summary.engineShareOfBestFixed)}</b> of it, while learning from scratch which e-mail to send to whom and spending ${pct(ts.controlShare)} of decisions on a random no-e-mail control to measure uplift. ${Object.entries(r.uplift)
    .map(([a, u]) => `Its uplift estimate for ${esc(a)} (${fmtU(u.estimate)}) ${r.summary.upliftCoversExperiment[a] ? "has an interval that covers" : "has an interval that <b>misses</b>"} the experiment's own difference (${fmtU(u.experiment)}; ${pct(u.coverage, 0)} of the seeds' own intervals cover it).`)
    .join(" ")}</div>
<h2>How each policy did</h2>
<figure>${chart}</figure>
<p class="muted">Each line is the mean ${esc(r.metric)} of the decisions a policy has made so far (kept rows only). Learning policies start where chance puts them and climb as they learn; dashed lines are policies that always send the same e-mail.</p>
<table><tr><th>policy</th><th>value</th><th>95% interval</th><th>kept rows</th><th>random control share</th><th>control rows kept</th><th>IPS</th><th>SNIPS</th></tr>
${rows}</table>
<p class="muted"><b>value</b>: mean ${esc(r.metric)} over the rows where the policy's own choice matched the logged e-mail (mean over seeds). <b>95% interval</b>: covers both the sampling of customers and the policy's random draws. Rows the engine sent to its random control draw are not part of its value; they are counted in the last two columns and used only for uplift. <b>IPS / SNIPS</b>: inverse-propensity and self-normalised estimates of the fixed policies over all rows with the logging probability 1/3, a check on the replay figure.</p>
${r.baseline ? baselineSection(r.baseline, `value (${r.metric}), on the same rows of each seed's order, mean over seeds`) : ""}
<h2>The engine against each policy, seed by seed</h2>
<table><tr><th>policy</th><th>engine − policy</th><th>95% interval</th><th>as a share of the best arm</th><th>the engine is</th></tr>
${prows}</table>
<p class="muted">At each of the ${r.seeds} seeds both policies walk the same rows in the same order${r.shuffle ? " (each seed its own random order)" : " (the file's order)"}; the difference of their values is averaged over the seeds with a t-interval. It covers the policies' random draws${r.shuffle ? " and the order of the rows" : ""} on this file's customers, not the sampling of the customers themselves. <b>better</b> / <b>worse</b>: the interval lies above / below 0; otherwise the seeds <b>cannot tell</b>.</p>
<h2>Uplift: what each e-mail adds over no e-mail</h2>
<figure>${upl}</figure>
<table><tr><th>e-mail</th><th>engine estimate</th><th>95% interval</th><th>experiment</th><th>95% interval</th><th>engine interval covers the experiment</th><th>seeds covering</th><th>rows behind it (arm / control)</th></tr>
${urows}</table>
<p class="muted">The engine's estimate compares the customers it chose to send that e-mail with the customers its random control draw left without e-mail (${binary ? "Newcombe's hybrid score interval for a difference of proportions" : "normal interval for a difference of means"}, averaged over seeds). The experiment's figure compares every customer who got the e-mail with every customer who got none. Means per arm over the whole file: ${arms}.</p>
<h2>Settings</h2>
<ul>
<li>Segments of ts-segmented: ${segs}.</li>
<li>Engine posterior: prior Beta(${r.settings.bandit.priorAlpha}, ${r.settings.bandit.priorBeta}), hierarchy strength ${r.settings.bandit.hierarchyStrength}, random control share ${r.settings.bandit.holdoutShare}, half-life ${r.settings.bandit.halfLifeMs / 1000} s of event time; the file has no timestamps, so rows are ${r.settings.msPerRow} ms apart.</li>
<li>Logistic model features: ${r.settings.features.map((f) => `<code>${esc(f)}</code>`).join(", ")}; prior sd ${r.settings.bandit.logistic.priorSd} (baseline), ${r.settings.bandit.logistic.armPriorSd} (each arm's intercept), ${r.settings.bandit.logistic.contextPriorSd ?? r.settings.bandit.logistic.armPriorSd} (each arm's context terms, which enter the score weighted by the evidence that they make better decisions).</li>
${binary ? "" : `<li>Spend: the conversion model learns whether a customer spends at all; a Normal–Gamma posterior per arm (centred on the amount pooled over the arms) learns what a buyer spends; the score is that amount × the sampled conversion. Values above are in dollars.</li>`}
<li>ε-greedy explores ${pct(r.settings.epsilon, 0)} of the time. Fixed policies have no random draws, so one run stands for all seeds.</li>
</ul>`;
  return page(`Offline replay: ${r.dataset}`, body);
}

const dollars = (cents: number) => `$${(cents / 100).toLocaleString("en-US", { maximumFractionDigits: 0 })}`;

/**
 * Safe start against the shop's rule (--baseline): each policy's share of the rule's cumulative margin
 * (or value, on a log) at the last checkpoint and at its worst, and when the apprentice graduated.
 */
function baselineSection(b: { name: string; checkpoints: readonly number[]; shareOfBaseline: Record<string, readonly (number | null)[]>; graduatedAt: { apprentice: number | null }; worstShareOfBaseline: Record<string, number>; servedByBaseline?: Record<string, number> }, unit: string): string {
  const rows = Object.keys(b.shareOfBaseline)
    .map((p) => {
      const last = b.shareOfBaseline[p]!.at(-1);
      const served = b.servedByBaseline?.[p];
      return `<tr><td class="l">${esc(p)}</td><td>${last == null ? "–" : last.toFixed(3)}</td><td>${Number.isFinite(b.worstShareOfBaseline[p]) ? b.worstShareOfBaseline[p]!.toFixed(3) : "–"}</td>${b.servedByBaseline ? `<td>${served === undefined ? "–" : pct(served)}</td>` : ""}</tr>`;
    })
    .join("\n");
  const grad = b.graduatedAt.apprentice;
  return `
<h3>Against the shop's rule: <code>${esc(b.name)}</code></h3>
<p>Each policy's cumulative ${esc(unit)} over the rule's at the same points, at ${b.checkpoints.length} checkpoints (the last at ${(b.checkpoints.at(-1) ?? 0).toLocaleString("en-US")}). The apprentice ${grad === null ? "<b>did not graduate</b>" : `graduated at <b>${grad.toLocaleString("en-US")}</b>`}.</p>
<table><tr><th>policy</th><th>share of the rule, at the end</th><th>lowest share</th>${b.servedByBaseline ? "<th>served by the rule</th>" : ""}</tr>
${rows}</table>`;
}

function simSection(r: SimReport): string {
  const names = Object.keys(r.regret);
  const colors = Object.fromEntries(names.map((n, i) => [n, PALETTE[i % PALETTE.length]!]));
  const marks = r.changes.map((c) => ({ x: c.atDecision, label: c.note.split(":")[0]! }));
  const share = lineChart({
    title: `Share of the oracle's incremental margin, rolling window of ${r.settings.windowDecisions} decisions`,
    xLabel: "decisions",
    yLabel: "share of oracle",
    xs: r.series.decisions,
    series: names.map((n) => ({ name: n, ys: r.series.rollingShare[n]!, color: colors[n]!, dash: n.startsWith("fixed:") })),
    format: (v) => `${Math.round(v * 100)}%`,
    marks,
    refs: [{ y: r.settings.recoveryShare, label: pct(r.settings.recoveryShare, 0) }],
  });
  const reg = lineChart({
    title: "Cumulative regret: expected margin lost against the oracle",
    xLabel: "decisions",
    yLabel: "regret ($)",
    xs: r.series.decisions,
    series: names.map((n) => ({ name: n, ys: r.series.cumulativeRegret[n]!.map((c) => c / 100), color: colors[n]!, dash: n.startsWith("fixed:") })),
    format: (v) => `$${Math.round(v).toLocaleString("en-US")}`,
    marks,
  });
  const rows = names
    .map((n) => `<tr><td><b style="color:${colors[n]}">${esc(n)}</b><br><span class="muted">${esc(r.policies[n] ?? "")}</span></td><td>${pct(r.marginShareOfOracle[n])}</td><td>${pct(r.lastHalf.marginShareOfOracle[n])}</td><td>${dollars(r.incrementalMarginCents[n]!)}</td><td>${dollars(r.oracleMarginCents[n]!)}</td><td>${dollars(r.regret[n]!)}</td><td>${r.joinedDecisions[n]!.toLocaleString("en-US")}</td><td>${r.holdoutDecisions[n]!.toLocaleString("en-US")}</td></tr>`)
    .join("\n");
  const ch = r.changes.length
    ? `<h3>After each change</h3><table><tr><th>change</th><th>policy</th><th>share before</th><th>share in the next ${r.settings.recoveryWithinDecisions.toLocaleString("en-US")} decisions</th><th>lowest window</th><th>decisions until a window ≥ ${pct(r.settings.recoveryShare, 0)} of oracle</th><th>within ${r.settings.recoveryWithinDecisions.toLocaleString("en-US")}</th><th>decisions until ≥ ${pct(r.settings.recoveryShare, 0)} of its own level before</th></tr>
${r.changes
  .flatMap((c) =>
    names.map((n, i) => {
      const x = c.recovery[n]!;
      return `<tr>${i === 0 ? `<td rowspan="${names.length}">${esc(c.note)}<br><span class="muted">after ${c.atDecision.toLocaleString("en-US")} decisions (${esc(c.simTime)})</span></td>` : ""}<td class="l">${esc(n)}</td><td>${pct(x.shareBefore)}</td><td>${pct(x.shareAfter)}</td><td>${pct(x.lowestWindowShare)}</td><td>${x.afterDecisions ?? "not reached"}</td><td>${yes(x.withinTarget)}</td><td>${x.afterDecisionsRelative ?? "not reached"}</td></tr>`;
    }),
  )
  .join("\n")}</table>`
    : "";
  return `
<h2>Scenario <code>${esc(r.scenario)}</code></h2>
<p>${esc(r.description)}</p>
<p class="muted">${r.decisions.toLocaleString("en-US")} decisions (${r.simHours.toFixed(1)} simulated hours), world seed ${r.seed}.</p>
<table><tr><th>policy</th><th>share of oracle (whole run)</th><th>share of oracle (last half)</th><th>incremental margin</th><th>oracle's</th><th>regret</th><th>decisions counted</th><th>random control (left out)</th></tr>
${rows}</table>
<figure>${share}</figure>
<figure>${reg}</figure>
${ch}
${r.baseline ? baselineSection(r.baseline, "incremental margin at the decision points (from the simulator's truth)") : ""}
<p class="muted">Diagnostic: a policy that sees only the engine's segments and, in hindsight, always took the arm with the best average true value in each segment would earn ${pct(r.segmentOracleShare.all)} of the oracle (${pct(r.segmentOracleShare.lastHalf)} over the last half). The engine's decisions do not use those segments (they use the conversion model per customer and the product at hand), so it can and does earn more than this.</p>`;
}

export function simHtml(reports: readonly SimReport[]): string {
  const body = `
<h1>Does the promotion engine learn? Regret against the simulator's truth</h1>
<p>The simulator is a shop with simulated shoppers whose hidden types decide how they respond to a promotion: some buy anyway (a discount only costs margin), some are persuaded, some are put off, some never buy. For every decision point (a shopper looking at a product, a cart left behind, a message) it knows the <b>expected incremental margin</b> of each promotion: the margin it would earn with that offer minus what it would earn with no offer. The <b>oracle</b> always picks the best of the offers the engine was allowed to make (stock, budget, channel, frequency caps); <b>regret</b> is what a policy's pick falls short of it, summed over decisions. Each policy runs through the engine's own pipeline on its own copy of the same simulated shop (same seed), so stock and budgets run out as they would: the engine as configured, a greedy conversion maximiser (never control), uniform, and every promotion as a fixed rule (offered wherever it is a candidate, control elsewhere; dashed). Decisions taken by the random control draw are left out on both sides.</p>
${reports.map(simSection).join("\n")}`;
  return page(`Simulator regret: ${reports.map((r) => r.scenario).join(", ")}`, body);
}

/** The what-if report (issue #17): each candidate next to the logged policy, estimators side by side. */
/** The decisions not evaluated, by reason: with those evaluated they add up to the log's decisions. */
function leftOut(l: WhatIfReport["logged"]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const parts = [
    `${n(l.openDecisions)} still open`,
    ...(l.overflowed ? [`${n(l.overflowed)} closed early by overflow (more open decisions than attribution.maxPending), whose outcome is no measurement`] : []),
    ...(l.noOutcome ? [`${n(l.noOutcome)} past their window with no outcome in the log`] : []),
    ...(l.notReplayed ? [`${n(l.notReplayed)} the replay did not decide at (their event is not in the log)`] : []),
  ];
  return parts.join(", ");
}

export function whatIfHtml(r: WhatIfReport): string {
  const $ = (c: number) => (Number.isFinite(c) ? `$${dollars2(c)}` : "–");
  const ci = (e: { ci95: [number, number] }) => `[${$(e.ci95[0])}, ${$(e.ci95[1])}]`;
  const names = Object.keys(r.candidates);
  const upl = intervalChart({
    title: "Incremental margin per decision over always-control, doubly robust, 95% intervals",
    xLabel: "$ per decision",
    rows: [
      { label: "logged policy", items: [{ name: "on-policy", estimate: r.logged.incremental.value / 100, ci95: [r.logged.incremental.ci95[0] / 100, r.logged.incremental.ci95[1] / 100], color: PALETTE[0] }] },
      ...names.map((n, i) => {
        const e = r.candidates[n]!.incremental.dr;
        return { label: n, items: [{ name: "doubly robust", estimate: e.value / 100, ci95: [e.ci95[0] / 100, e.ci95[1] / 100] as [number, number], color: PALETTE[(i + 1) % PALETTE.length] }] };
      }),
    ],
    format: (v) => `$${dollars2(100 * v)}`,
  });
  const rows = names
    .map((n) => {
      const c = r.candidates[n]!;
      const flag = c.warnings.length ? `<br><span class="bad">${c.warnings.map(esc).join("<br>")}</span>` : "";
      return `<tr><td><b>${esc(n)}</b><br><code class="muted">${esc(JSON.stringify(c.overlay))}</code>${flag}</td><td>${$(c.ips.value)}<br><span class="muted">${ci(c.ips)}</span></td><td>${$(c.snips.value)}<br><span class="muted">${ci(c.snips)}</span></td><td><b>${$(c.dr.value)}</b><br><span class="muted">${ci(c.dr)}</span></td><td><b>${$(c.incremental.dr.value)}</b><br><span class="muted">${ci(c.incremental.dr)}</span></td><td>${$(c.replay.value)}<br><span class="muted">${c.replay.matched.toLocaleString("en-US")} rows matched</span></td><td>${Math.round(c.ess).toLocaleString("en-US")} of ${c.rows.toLocaleString("en-US")}</td></tr>`;
    })
    .join("\n");
  const share = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${esc(k)} ${pct(v, 0)}`)
      .join(", ");
  const body = `
<h1>What if? Candidate configurations on the shop's own decisions</h1>
<p class="muted">${r.settings.events.toLocaleString("en-US")} events, ${r.settings.decisions.toLocaleString("en-US")} decisions, ${r.settings.outcomes.toLocaleString("en-US")} outcomes in the log; ${r.logged.rows.toLocaleString("en-US")} evaluated (their attribution window had ended); left out: ${leftOut(r.logged)}.</p>
<p>Every decision the engine logged carries the probability with which its policy chose that arm. Each candidate configuration is run through the same engine code on the shop's events; at every logged decision it says how likely it would have been to make the same choice, and learns from the logged outcome as the live engine did. Weighting what each decision earned by that ratio estimates what the candidate would have earned on the same decision points (inverse propensity scoring); <b>doubly robust</b> adds the engine's own model of what each arm earns, which narrows the interval without biasing it when the model is wrong.</p>
<div class="key"><b>Logged policy:</b> ${$(r.logged.value)} of margin per decision ${ci(r.logged)}, ${$(r.logged.incremental.value)} over always-control ${ci(r.logged.incremental)}. Its arms: ${share(r.logged.armShare)}.</div>
<figure>${upl}</figure>
<table><tr><th>candidate (overlay)</th><th>IPS</th><th>SNIPS</th><th>doubly robust</th><th>DR over control</th><th>replay</th><th>effective sample size</th></tr>
${rows}</table>
<p class="muted">Values are margin earned per decision (cents shown as dollars), 95% intervals from the per-decision terms. <b>Over control</b>: minus the always-control policy on the same decisions, the incremental margin. <b>Replay</b>: the candidate draws its own arm at each logged decision and learns only where it matches the logged one (Li et al. 2011), weighted by 1/propensity. <b>Effective sample size</b>: (Σw)²/Σw² of the weights; under ${r.settings.minEss} the log cannot say what the candidate would earn.</p>
<h2>How each candidate would have chosen</h2>
<ul>${names.map((n) => `<li><b>${esc(n)}</b>: ${share(r.candidates[n]!.armShare)}</li>`).join("")}</ul>`;
  return page("What-if evaluation", body);
}
