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
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss (negative ELBO)', 'ESS fraction of batch'] } },
    spec: {
      width: 300,
      height: 200,
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'training step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'flow', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return {
    id: 'training',
    title: 'Flow training curve',
    caption: 'Left: the reverse-KL loss E_q[log q − log p̃] (lower is better; its floor is −log Z). Right: ESS/n of the importance weights of each training batch (1 = perfect fit).',
    mode: 'vega-lite',
    spec,
    expect: [{ markClass: 'mark-line', min: 1 }],
  };
}
