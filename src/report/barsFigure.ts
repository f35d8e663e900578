/**
 * Bar charts of efficiency and accuracy per sampler: ESS per second (training time counted for
 * flows), ESS per 1000 density evaluations, and KL to the ground truth where it is known.
 */
import { warningCodes, type SummaryRow } from './summaryRow.js';
import { type Figure, jsonNumber } from './figure.js';

export function barsFigure(rows: SummaryRow[]): Figure {
  const metrics: [keyof SummaryRow, string][] = [
    ['essPerSecond', 'ESS per second'],
    ['essPer1000Evals', 'ESS per 1000 density evaluations'],
    ['kl', 'KL to ground truth (lower is better)'],
  ];
  // A row with warnings is drawn pale and its tooltip names them: a fast sampler whose draws are
  // suspect (divergences, R-hat, k-hat) must not read as the winner.
  const values: { sampler: string; metric: string; value: number | null; warnings: string }[] = [];
  for (const [key, label] of metrics) {
    for (const r of rows) {
      const v = r[key];
      if (typeof v === 'number' && Number.isFinite(v)) values.push({ sampler: r.sampler, metric: label, value: jsonNumber(v), warnings: warningCodes(r) });
    }
  }
  const present = metrics.filter(([, label]) => values.some((v) => v.metric === label)).map(([, l]) => l);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: present } },
    spec: {
      width: 220,
      height: { step: 18 },
      mark: 'bar',
      encoding: {
        y: { field: 'sampler', type: 'nominal', title: null, sort: rows.map((r) => r.sampler) },
        x: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'sampler', type: 'nominal', legend: null, sort: rows.map((r) => r.sampler) },
        opacity: { condition: { test: "datum.warnings !== '-'", value: 0.35 }, value: 1 },
        tooltip: [{ field: 'sampler' }, { field: 'value', format: '.3g' }, { field: 'warnings' }],
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
  return {
    id: 'efficiency',
    title: 'Efficiency and accuracy',
    caption: 'ESS is the minimum bulk ESS over parameters. Flow samplers pay for training in ESS/s and in density evaluations. KL appears only for targets with an exact sampler. Pale bars belong to samplers with warnings (see under the table): their numbers may not be trustworthy.',
    mode: 'vega-lite',
    spec,
    expect: [{ markClass: 'mark-rect', min: Math.min(1, values.length) }],
  };
}
