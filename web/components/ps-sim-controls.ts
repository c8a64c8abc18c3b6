import { LitElement, css, html } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import type { SimAbsence, SimStatusView } from "../../src/server/index.ts";
import { formatSimTime, formatSpeed } from "../model/format.ts";
import { SLIDER_MAX, sliderFromSpeed, speedFromSlider } from "../model/speed.ts";
import { seedFromInput } from "../model/seed.ts";
import { simAbsentText, simRateText, type ConnectionStatus } from "../model/status.ts";

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
  /** Whether the server has sent anything yet (ClientState.frames > 0): before, nothing is known of the simulator. */
  @property({ type: Boolean }) heard = true;
  @property({ attribute: false }) error: string | null = null;
  /** Replies to commands so far (ClientState.simReplies): each one puts the simulator's settings back in the fields. */
  @property({ type: Number }) replies = 0;
  /** The page's connection to the server: figures of now (the event rate) are not shown while it is down. */
  @property() connection: ConnectionStatus = "open";
  @query("#seed") private seedInput!: HTMLInputElement | null;
  @query("#scenario") private scenarioSelect!: HTMLSelectElement | null;
  @query("#speed") private speedInput!: HTMLInputElement | null;

  override updated(changed: Map<PropertyKey, unknown>): void {
    // The fields' bindings only write when the simulator's settings change, so a refused seed (or an
    // emptied field), or a choice the page could not send, stayed shown while the simulator kept its
    // own: show what the simulator has.
    if (!changed.has("replies") || !this.sim) return;
    if (this.seedInput) this.seedInput.value = String(this.sim.seed);
    if (this.scenarioSelect) this.scenarioSelect.value = this.sim.scenario;
    if (this.speedInput) this.speedInput.value = String(sliderFromSpeed(this.sim.speed));
  }

  /** The Seed field stepped by its arrow keys and not applied yet (Chromium fires `change` at each step): Enter or leaving it applies. */
  private seedKeyed = false;

  private onSeedKey(e: KeyboardEvent, input: HTMLInputElement): void {
    if (e.key === "Enter" && this.seedKeyed) this.onSeed(input);
    else if (/^(ArrowUp|ArrowDown|PageUp|PageDown)$/.test(e.key)) this.seedKeyed = true;
  }

  private onSeed(input: HTMLInputElement): void {
    this.seedKeyed = false;
    const seed = seedFromInput(input.value);
    if (seed === null) {
      if (this.sim) input.value = String(this.sim.seed);
      return;
    }
    this.send("seed", seed);
  }

  /**
   * The scenario picker moved by keys on the closed list (arrows, letters), not applied yet. Chromium
   * fires `change` at each such step, and every scenario passed through was switched to (and marked);
   * Enter or leaving the picker applies the one chosen, as a typed seed is sent on Enter or leaving it.
   */
  private scenarioKeyed = false;

  private onScenarioKey(e: KeyboardEvent, select: HTMLSelectElement): void {
    if (e.key === "Enter") this.applyScenario(select);
    else if (!e.altKey && (/^(Arrow|Page)|^(Home|End)$/.test(e.key) || (e.key.length === 1 && e.key !== " "))) this.scenarioKeyed = true;
  }

  private applyScenario(select: HTMLSelectElement): void {
    this.scenarioKeyed = false;
    if (this.sim && select.value !== this.sim.scenario) this.send("scenario", select.value);
  }

  private send(cmd: string, value?: unknown): void {
    this.dispatchEvent(new CustomEvent("sim-command", { detail: { cmd, ...(value !== undefined ? { value } : {}) }, bubbles: true, composed: true }));
  }

  override render() {
    const s = this.sim;
    if (!s) {
      const why = simAbsentText(this.absent, this.heard);
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
        <select id="scenario"
          @change=${(e: Event) => !this.scenarioKeyed && this.applyScenario(e.target as HTMLSelectElement)}
          @keydown=${(e: KeyboardEvent) => this.onScenarioKey(e, e.target as HTMLSelectElement)}
          @pointerdown=${() => (this.scenarioKeyed = false)}
          @blur=${(e: Event) => this.scenarioKeyed && this.applyScenario(e.target as HTMLSelectElement)}>
          ${s.scenarios.map((n) => html`<option value=${n} ?selected=${n === s.scenario}>${n}</option>`)}
        </select>
      </label>
      <label>Seed
        <input id="seed" type="number" min="0" .value=${String(s.seed)}
          @change=${(e: Event) => !this.seedKeyed && this.onSeed(e.target as HTMLInputElement)}
          @keydown=${(e: KeyboardEvent) => this.onSeedKey(e, e.target as HTMLInputElement)}
          @pointerdown=${() => (this.seedKeyed = false)}
          @blur=${(e: Event) => this.seedKeyed && this.onSeed(e.target as HTMLInputElement)} />
      </label>
      <span class="stat" id="sim-rate">${simRateText(s.ratePerSec, this.connection)}</span>
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
