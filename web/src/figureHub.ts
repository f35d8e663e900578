/**
 * The flow worker's picture of a run: the flow's current draws, the classical samplers' draws
 * and every row, the training curve. `figures()` turns it into the report's own figure set
 * (src/report/figures.ts: the same Vega / Vega-Lite specs as report.html), so the page and the
 * report draw the same pictures. The flow's panel shows raw draws from q as it is now
 * ("flow q", unweighted), which is what training changes; the table's iaf row is the
 * importance-resampled sampler, as in the CLI.
 */
import { figureSet, kishEss, makeDraws, modeVisits, type ComparisonRow, type Draws, type Figure, type Flow, type Target, type TrainingCurve } from '../../src/index.js';

/** Draws shown from the flow at each snapshot (the density panel thins to 1000 anyway). */
export const FLOW_SNAPSHOT_DRAWS = 1000;
/** Side of a density panel in pixels (the report's are 220). */
const PANEL_SIDE = 180;
/** Points per sampler in the live density panels (the final figures show the report's 1000). */
const LIVE_POINTS = 400;
/** The same base noise at every snapshot, so the points move only because the flow changes. */
const SNAPSHOT_SEED = 'playground-snapshot';

export class FigureHub {
  private flowDraws: Draws | null = null;
  private droppedFlowDraws = 0;
  private readonly others: Draws[] = [];
  private readonly rows: ComparisonRow[] = [];
  private curve: TrainingCurve | null = null;

  constructor(
    private readonly target: Target,
    private readonly seed: number,
    private readonly chains: number,
  ) {}

  /**
   * Draws from the flow's current parameters (rows with a non-finite coordinate are dropped and
   * counted). Returns Kish's ESS/n of their importance weights p̃/q, the training curve's
   * "ESS fraction" (null when no weight is usable).
   */
  snapshotFlow(flow: Flow): number | null {
    const { x, logq } = flow.sampleArrays(FLOW_SNAPSHOT_DRAWS, SNAPSHOT_SEED);
    const dim = this.target.dim;
    const keep: number[] = [];
    const logw: number[] = [];
    const point = new Float64Array(dim);
    for (let r = 0; r < FLOW_SNAPSHOT_DRAWS; r++) {
      let ok = Number.isFinite(logq[r]);
      for (let j = 0; j < dim; j++) if (!Number.isFinite(x[r * dim + j])) ok = false;
      if (!ok) continue;
      keep.push(r);
      point.set(x.subarray(r * dim, (r + 1) * dim));
      const lp = this.target.logDensity(point);
      logw.push(Number.isNaN(lp) || lp === Infinity ? -Infinity : lp - logq[r]);
    }
    this.droppedFlowDraws = FLOW_SNAPSHOT_DRAWS - keep.length;
    const essFraction = logw.some((v) => v > -Infinity) ? kishEss(Float64Array.from(logw)) / FLOW_SNAPSHOT_DRAWS : null;
    const chains = Math.max(1, Math.min(this.chains, Math.floor(keep.length / 10)));
    const per = Math.floor(keep.length / chains);
    if (per < 2) {
      this.flowDraws = null;
      return essFraction;
    }
    const values = new Float64Array(chains * per * dim);
    for (let k = 0; k < chains * per; k++) values.set(x.subarray(keep[k] * dim, (keep[k] + 1) * dim), k * dim);
    this.flowDraws = makeDraws({ sampler: 'flow q', chains, draws: per, dim, values, paramNames: this.target.paramNames, wallTimeMs: 0, densityEvals: 0, gradEvals: 0, acceptance: 1 });
    return essFraction;
  }

  /** How many of the last snapshot's draws were not finite (a diverging flow). */
  get nonFiniteFlowDraws(): number {
    return this.droppedFlowDraws;
  }

  setCurve(curve: TrainingCurve): void {
    this.curve = curve;
  }

  addRow(row: ComparisonRow): void {
    this.rows.push(row);
  }

  addDraws(d: Draws): void {
    this.others.push(d);
  }

  /** The figure set now; `live` keeps only what changes while the flow trains (density panels, curve). */
  figures(live: boolean): Figure[] {
    const draws = [...(this.flowDraws ? [this.flowDraws] : []), ...this.others];
    const modeCounts: Record<string, number[]> = {};
    if (this.target.modes && this.target.modes.count <= 256) {
      for (const d of draws) modeCounts[d.sampler] = Array.from(modeVisits(d.values, d.dim, this.target.modes).counts);
    }
    // A curve without one finite loss (training that never got going) would be an empty chart.
    const curves = this.curve && this.curve.points.some((p) => Number.isFinite(p.loss)) ? [this.curve] : [];
    const figs = figureSet(this.target, draws, live ? [] : this.rows, curves, {
      seed: this.seed,
      // Four panels fit beside the form; live updates are redrawn every second or so on the
      // page's thread, and fewer points keep each redraw short.
      density: { cell: PANEL_SIDE, ...(live ? { maxPoints: LIVE_POINTS } : {}) },
      ...(this.target.modes ? { modeCounts } : {}),
    });
    return live ? figs.filter((f) => f.id === 'training' || f.id.startsWith('density-')) : figs;
  }
}
