import { LitElement, css, html } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Decision } from "../../src/events/index.ts";
import type { OutcomeBrief } from "../../src/server/index.ts";
import { formatCandidate, formatTimeOfDay } from "../model/format.ts";
import { formatOutcome } from "../model/outcomes.ts";

const SHOWN = 50;

/** Newest decisions first, with how each ended once it has; click one for its explanation. Can follow one customer. */
@customElement("ps-feed")
export class PsFeed extends LitElement {
  static override styles = css`
    :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px; min-width: 0; }
    h3 { margin: 0 0 4px; font-size: 13px; }
    .rows { max-height: 260px; overflow: auto; }
    table { width: 100%; border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
    td, th { text-align: left; padding: 1px 6px; border-bottom: 1px solid #f0f1f3; white-space: nowrap; }
    thead th { position: sticky; top: 0; background: #fff; }
    tbody tr { cursor: pointer; }
    tr.sel { background: #eef3ff; }
    tbody tr:focus-visible { outline: 2px solid #1f5fd1; outline-offset: -2px; }
    .why { font-size: 12px; margin-top: 6px; background: #fafbfc; border-radius: 6px; padding: 6px 8px; }
    .hold { color: #a60; }
    .head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; margin-bottom: 4px; }
    .head h3 { margin: 0; }
    label { font-size: 12px; color: #445; }
    input { font: inherit; font-size: 12px; width: 150px; padding: 0 4px; }
    td.open { color: #99a; }
    td.redeemed { color: #17652f; font-weight: 600; }
    td.purchased { color: #17652f; }
    td.expired, td.overflow { color: #778; }
  `;

  @property({ attribute: false }) decisions: Decision[] = [];
  /** The customer followed ("" for everyone), and that customer's decisions. */
  @property() follow = "";
  @property({ attribute: false }) followed: Decision[] = [];
  @property({ attribute: false }) outcomes: ReadonlyMap<string, OutcomeBrief> = new Map();
  @state() private selected: Decision | undefined;

  /** The rows from the keyboard: Enter or Space opens a row's explanation, the arrows move between rows. */
  private onRowKey(e: KeyboardEvent, x: Decision): void {
    const row = e.currentTarget as HTMLTableRowElement;
    if (e.key === "Enter" || e.key === " ") this.selected = x;
    else if (e.key === "ArrowDown") (row.nextElementSibling as HTMLElement | null)?.focus();
    else if (e.key === "ArrowUp") (row.previousElementSibling as HTMLElement | null)?.focus();
    else return;
    e.preventDefault();
  }

  override render() {
    const d = this.selected;
    // Following one customer, the customer column would repeat the heading: its room goes to the outcome.
    const rows = this.follow ? this.followed : this.decisions;
    const outcome = (id: string) => this.outcomes.get(id);
    // One tab stop for the table (the selected row, else the first); arrows move between rows.
    const focusId = d && rows.slice(0, SHOWN).some((x) => x.id === d.id) ? d.id : undefined;
    return html`<div class="head">
        <h3>${this.follow ? html`Decisions for <code id="feed-following">${this.follow}</code>` : "Live decisions"} <small>(newest first; click one for its explanation)</small></h3>
        <label>customer <input id="feed-customer" placeholder="everyone" .value=${this.follow}
          @change=${(e: Event) => this.dispatchEvent(new CustomEvent("follow-customer", { detail: (e.target as HTMLInputElement).value, bubbles: true, composed: true }))} /></label>
      </div>
      <div class="rows">
        <table>
          <thead><tr><th>time</th>${this.follow ? null : html`<th>customer</th>`}<th>where</th><th>product</th><th>promotion</th><th>outcome</th><th>propensity</th><th>segment</th></tr></thead>
          <tbody>
            ${repeat(
              rows.slice(0, SHOWN),
              // Keyed: a focused row stays with its decision as new ones arrive above it.
              (x) => x.id,
              (x, i) => html`<tr class=${d?.id === x.id ? "sel" : ""} data-decision-id=${x.id} tabindex=${x.id === focusId || (focusId === undefined && i === 0) ? 0 : -1}
                @click=${() => (this.selected = x)} @keydown=${(e: KeyboardEvent) => this.onRowKey(e, x)}>
                <td>${formatTimeOfDay(x.ts)}</td>${this.follow ? null : html`<td>${x.customerId}</td>`}<td>${x.point === "product-view" || x.point === "visit" ? x.point : `${x.point} (${x.channel})`}</td><td>${x.productId ?? "–"}</td>
                <td class=${x.holdout ? "hold" : ""}>${x.promotionId}${x.holdout ? " (holdout)" : ""}${x.reason ? ` (${x.reason})` : ""}</td>
                <td class="outcome ${outcome(x.id)?.closedBy ?? "open"}">${formatOutcome(outcome(x.id))}</td>
                <td>${x.propensity.toFixed(3)}</td><td>${x.segment}</td></tr>`,
            )}
          </tbody>
        </table>
        ${this.follow && rows.length === 0 ? html`<div class="why" id="feed-none">No decision for ${this.follow} among the newest the server keeps, yet: the next ones show here as they are made.</div>` : null}
      </div>
      ${d
        ? html`<div class="why" id="explanation">
            <b>${d.id}</b>: ${d.promotionId} for ${d.customerId} on ${d.channel} at a ${d.point}${d.productId ? ` of ${d.productId}` : ""}, propensity ${d.propensity.toFixed(3)}; outcome: ${formatOutcome(outcome(d.id))}<br />
            Scores (expected margin: margin if bought × sampled conversion): ${d.explanation.candidates.map(formatCandidate).join(", ") || "none"}<br />
            Excluded: ${d.explanation.excluded.map((e) => `${e.promotionId} (${e.reason})`).join(", ") || "none"}
          </div>`
        : null}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-feed": PsFeed;
  }
}
