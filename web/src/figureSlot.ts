/**
 * One figure of the page: a title, the rendered Vega view and the caption, as in report.html
 * (with its export menu: PNG or SVG of the figure).
 * Live updates come faster than Vega renders, so a slot renders the latest figure it was given
 * and drops the ones in between; the new view replaces the old one only once it is drawn (no
 * blank frame). `data-rendered` / `data-error` on the view's container say how it went,
 * `data-renders` how many versions were drawn.
 */
import embed, { type Result } from 'vega-embed';
import type { Figure } from '../../src/report/figure.js';

/**
 * Figures render one at a time, each starting in a task of its own: Vega's work for one view
 * runs as one long stretch of microtasks, and several views at once would hold the page's
 * thread for all of them.
 */
let renderChain: Promise<unknown> = Promise.resolve();
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const next = renderChain.then(() => new Promise<void>((resolve) => setTimeout(resolve, 0))).then(work);
  renderChain = next.catch(() => undefined);
  return next;
}

export class FigureSlot {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly body: HTMLElement;
  private readonly caption: HTMLElement;
  private view: Result | null = null;
  private pending: Figure | null = null;
  private busy: Promise<void> | null = null;
  private disposed = false;
  private renders = 0;

  constructor(readonly id: string) {
    this.element = document.createElement('figure');
    this.element.className = 'figure';
    this.title = document.createElement('div');
    this.title.className = 'figure-title';
    this.body = document.createElement('div');
    this.body.className = 'vega-figure';
    this.body.dataset.figure = id;
    this.caption = document.createElement('figcaption');
    this.element.append(this.title, this.body, this.caption);
  }

  show(fig: Figure): void {
    this.pending = fig;
    this.busy ??= this.drain().finally(() => (this.busy = null));
  }

  /** Resolves once the latest figure given is on screen. */
  async settled(): Promise<void> {
    while (this.busy) await this.busy;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.disposed) {
      const fig = this.pending;
      this.pending = null;
      const target = document.createElement('div');
      try {
        // Canvas: redrawing thousands of points as SVG elements took twice as long on the page's thread.
        const result = await inTurn(() => embed(target, fig.spec as never, { mode: fig.mode, renderer: 'canvas', actions: { export: true, source: false, compiled: false, editor: false } }));
        if (this.disposed) {
          result.finalize();
          return;
        }
        this.title.textContent = fig.title;
        this.caption.textContent = fig.caption;
        this.body.replaceChildren(target);
        this.view?.finalize();
        this.view = result;
        // The Vega view on its container, for scripts and tests (its data and scenegraph).
        (this.body as HTMLElement & { vegaView?: unknown }).vegaView = result.view;
        this.body.dataset.rendered = 'true';
        this.body.dataset.renders = String(++this.renders);
        delete this.body.dataset.error;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        this.body.dataset.error = message;
        this.body.textContent = `figure failed to render: ${message}`;
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.view?.finalize();
    this.view = null;
    this.element.remove();
  }
}
