import type { ReactiveController, ReactiveControllerHost } from "lit";
import { columnCount } from "../model/layout.ts";

/**
 * The number of columns a CSS grid in the host's shadow root has now: the grid's own computed
 * template, read again whenever the grid is resized (ResizeObserver), so it follows the window the
 * way the CSS does. Observes from the first render on; released with the host.
 */
export class GridColumnsController implements ReactiveController {
  columns = 1;
  private observer: ResizeObserver | undefined;
  private observed: Element | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly selector: string,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.observer = new ResizeObserver(() => this.measure());
    if (this.observed) this.observer.observe(this.observed);
  }

  hostUpdated(): void {
    const el = this.host.shadowRoot?.querySelector(this.selector) ?? undefined;
    if (!el || el === this.observed) return;
    if (this.observed) this.observer?.unobserve(this.observed);
    this.observed = el;
    this.observer?.observe(el);
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  private measure(): void {
    if (!this.observed) return;
    const n = columnCount(getComputedStyle(this.observed).gridTemplateColumns);
    if (n === this.columns) return;
    this.columns = n;
    this.host.requestUpdate();
  }
}
