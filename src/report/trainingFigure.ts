/**
 * The flow's training curve: the reverse-KL loss (negative ELBO) and the importance-sampling
 * efficiency (ESS / batch size) of its batches against the optimisation step, one line per flow.
 * A loss that flattens while the ESS fraction stays low is the signature of a mode-seeking
 * flow that missed mass.
 */
import { type Figure, jsonNumber } from './figure.js';

export interface TrainingPoint {
  step: number;
  loss: number;
  /** ESS / n of the batch's importance weights, in (0, 1]; optional. */
  essFraction?: number;
}

export interface TrainingCurve {
  /** Flow name, e.g. 'iaf'. */
  name: string;
  points: TrainingPoint[];
}

export function trainingFigure(curves: TrainingCurve[], maxPoints = 500): Figure {
  const rows: { flow: string; step: number; metric: string; value: number | null }[] = [];
  for (const c of curves) {
    const stride = Math.max(1, Math.ceil(c.points.length / maxPoints));
    for (let k = 0; k < c.points.length; k += stride) {
      const p = c.points[k];
      // Points may carry only one of the two metrics; missing or non-finite values are skipped.
      if (Number.isFinite(p.loss)) rows.push({ flow: c.name, step: p.step, metric: 'loss (negative ELBO)', value: jsonNumber(p.loss) });
      if (p.essFraction !== undefined && Number.isFinite(p.essFraction)) rows.push({ flow: c.name, step: p.step, metric: 'ESS fraction of batch', value: jsonNumber(p.essFraction) });
    }
  }
  // The first steps' loss is often orders of magnitude above the rest; the loss axis therefore
  // spans the last 90 % of training (plus padding) and the early points are clipped, not hidden.
  const losses = rows.filter((r) => r.metric === 'loss (negative ELBO)' && r.value !== null);
  const maxStep = Math.max(0, ...losses.map((r) => r.step));
  const late = losses.filter((r) => r.step >= 0.1 * maxStep).map((r) => r.value as number);
  const lo = late.length ? Math.min(...late) : 0;
  const hi = late.length ? Math.max(...late) : 1;
  const pad = 0.1 * (hi - lo || Math.abs(hi) || 1);
  const panel = (metric: string, title: string, domain: number[] | undefined) => ({
    width: 300,
    height: 200,
    title: { text: title, fontSize: 12 },
    transform: [{ filter: { field: 'metric', equal: metric } }],
    mark: { type: 'line', strokeWidth: 1.2, clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'value', type: 'quantitative', title: null, scale: domain ? { domain, zero: false } : { zero: false } },
      color: { field: 'flow', type: 'nominal' },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    hconcat: [
      panel('loss (negative ELBO)', 'loss (negative ELBO)', late.length ? [lo - pad, hi + pad] : undefined),
      panel('ESS fraction of batch', 'ESS fraction of batch', [0, 1]),
    ],
  };
  return {
    id: 'training',
    title: 'Flow training curve',
    caption: 'Left: the reverse-KL loss E_q[log q − log p̃] (lower is better; its floor is −log Z; the axis covers the last 90 % of training, earlier values are clipped). Right: ESS/n of the importance weights of each training batch (1 = perfect fit).',
    mode: 'vega-lite',
    spec,
    expect: [{ markClass: 'mark-line', min: 1 }],
  };
}
