import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { WhatIfRow } from "../model/whatif.ts";

/** The last what-if evaluation: each candidate configuration's estimate next to the live policy. */
@customElement("ps-whatif")
export class PsWhatIf extends LitElement {
  static override styles = css`
    :host { display: block; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 6px 8px; min-width: 0; }
    h3 { margin: 0 0 4px; font-size: 13px; }
    p { margin: 2px 0 6px; font-size: 12px; color: #555; }
    /* Five columns do not fit a phone: the table scrolls inside the panel, not the page. */
    .scroll { overflow-x: auto; }
    table { width: 100%; border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
    td, th { text-align: left; padding: 1px 6px; border-bottom: 1px solid #f0f1f3; }
    .better { color: #17652f; font-weight: 600; }
    .worse { color: #a22; }
    .no-answer, .warn { color: #a60; }
    code { font-size: 11px; color: #555; }
  `;

  @property({ attribute: false }) rows: WhatIfRow[] = [];
  @property({ type: Number }) at = 0;

  override render() {
    if (this.rows.length === 0)
      return html`<h3>What if?</h3>
        <p id="whatif-empty">No candidate configuration evaluated yet: <code>npm run eval -- --logs --candidate &lt;config.json&gt; --out &lt;dir&gt;</code> (with NATS_URL) estimates what each would have earned on these decisions, and shows it here.</p>`;
    return html`<h3>What if? Candidate configurations on the logged decisions</h3>
      <p>Evaluated ${new Date(this.at).toISOString().slice(0, 16).replace("T", " ")} UTC: margin per decision (doubly robust, 95% interval) and over always-control; a candidate is <b>better</b> when its interval lies above the live policy's estimate.</p>
      <div class="scroll"><table id="whatif">
        <thead><tr><th>configuration</th><th>margin per decision</th><th>over control</th><th>effective sample</th><th>verdict</th></tr></thead>
        <tbody>
          ${this.rows.map(
            (r) => html`<tr title=${r.overlay}>
              <td>${r.name}${r.warnings.length ? html`<br /><span class="warn">${r.warnings.join("; ")}</span>` : null}</td>
              <td>${r.value}</td><td>${r.incremental}</td><td>${r.ess}</td><td class=${r.verdict.replace(" ", "-")}>${r.verdict}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-whatif": PsWhatIf;
  }
}
