import { LitElement, css, html } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { SimAbsence, SimStatusView } from "../../src/server/index.ts";
import { formatSimTime, formatSpeed } from "../model/format.ts";
import { SLIDER_MAX, sliderFromSpeed, speedFromSlider } from "../model/speed.ts";
import { simAbsentText } from "../model/status.ts";

export type SimCommandEvent = CustomEvent<{ cmd: string; value?: unknown }>;

/** Play/pause, speed, scenario and seed; each change is sent up as a `sim-command` event. */
@customElement("ps-sim-controls")
export class PsSimControls extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 14px; background: #fff; border: 1px solid #e3e6eb; border-radius: 8px; padding: 5px 10px; }
    label { font-size: 12px; color: #445; display: flex; align-items: center; gap: 6px; }
    input[type="range"] { width: 170px; }
    input[type="number"] { width: 90px; }
    button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 6px; border: 1px solid #c8ccd4; background: #f4f5f7; cursor: pointer; }
    .off, .err { color: #a33; font-size: 12px; }
    .stat { font-size: 12px; color: #334; font-variant-numeric: tabular-nums; }
  `;

  @property({ attribute: false }) sim: SimStatusView | null = null;
  /** Why there is no status, when the server knows. */
  @property({ attribute: false }) absent: SimAbsence | null = null;
  @property({ attribute: false }) error: string | null = null;

  private send(cmd: string, value?: unknown): void {
    this.dispatchEvent(new CustomEvent("sim-command", { detail: { cmd, ...(value !== undefined ? { value } : {}) }, bubbles: true, composed: true }));
  }

  override render() {
    const s = this.sim;
    if (!s) {
      const why = simAbsentText(this.absent);
      return why.start
        ? html`<span class="off" id="sim-off">${why.text} (start it with <code>npm run simulator</code>, or <code>npm start</code>).</span>`
        : html`<span class="off" id="sim-off">${why.text}</span>`;
    }
    return html`
      <button id="play" @click=${() => this.send(s.running ? "pause" : "resume")}>${s.running ? "Pause" : "Play"}</button>
      <label>Speed
        <input id="speed" type="range" min="0" max=${SLIDER_MAX} step="1" .value=${String(sliderFromSpeed(s.speed))}
          @change=${(e: Event) => this.send("speed", speedFromSlider(Number((e.target as HTMLInputElement).value)))} />
        <span class="stat" id="speed-value">${formatSpeed(s.speed)}</span>
      </label>
      <label>Scenario
        <select id="scenario" @change=${(e: Event) => this.send("scenario", (e.target as HTMLSelectElement).value)}>
          ${s.scenarios.map((n) => html`<option value=${n} ?selected=${n === s.scenario}>${n}</option>`)}
        </select>
      </label>
      <label>Seed
        <input id="seed" type="number" min="0" .value=${String(s.seed)}
          @change=${(e: Event) => this.send("seed", Number((e.target as HTMLInputElement).value))} />
      </label>
      <span class="stat" id="sim-rate">${s.ratePerSec.toFixed(0)} events/s</span>
      <span class="stat" id="sim-time">sim time ${formatSimTime(s.simTimeMs)}</span>
      ${this.error ? html`<span class="err" id="sim-error">${this.error}</span>` : null}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "ps-sim-controls": PsSimControls;
  }
}
