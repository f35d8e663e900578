/**
 * The study's outputs, rewritten (atomically) after every run, finished or not:
 * - report.html: self-contained (the comparison report's page and its Vega-Lite figures), with
 *   per target the ranking of samplers by ESS/s, ESS per gradient and per evaluation (median
 *   across seeds and its interval), KL and bias against the ground truth where known, and
 *   failure counts (R-hat > 1.01, k-hat > 0.7, divergences, errors);
 * - cells.csv and cells.json: every cell, for the user's own analysis;
 * - summary.json: the per-target aggregates shown in the report.
 */
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomicWrite.js';
import { escapeHtml } from '../report/escape.js';
import { renderPage, figureHtml, type PageFigureSpec } from '../report/html.js';
import type { Figure } from '../report/figure.js';
import { barsFigure } from '../report/barsFigure.js';
import type { SummaryRow } from '../report/summaryRow.js';
import { emptyRow } from '../report/metrics.js';
import type { StudySpec } from './studySpec.js';
import type { CellDef } from './cells.js';
import type { CellMetrics, CellResult } from './cellRun.js';
import { summarizeStudy, type Interval, type SamplerSummary, type TargetSummary } from './studyAggregate.js';

const METRIC_COLUMNS: (keyof CellMetrics)[] = [
  'essBulk', 'essTail', 'rhat', 'essPerSecond', 'essPer1000Evals', 'essPer1000Grads', 'kl', 'khat', 'biasMax', 'biasRms',
  'divergences', 'acceptance', 'densityEvals', 'gradEvals', 'wallTimeS', 'trainTimeS',
];

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function cellsCsv(cells: CellDef[], results: Map<string, CellResult>): string {
  const head = ['id', 'target', 'sampler', 'seed', 'status', 'error', ...METRIC_COLUMNS, 'digest', 'host', 'started', 'finished', 'hash'];
  const lines = [head.join(',')];
  for (const c of cells) {
    const r = results.get(c.id);
    const status = !r ? 'pending' : r.error ? 'failed' : 'done';
    lines.push(
      [c.id, c.target.label, c.sampler.label, c.seed, status, r?.error, ...METRIC_COLUMNS.map((k) => r?.metrics[k]), r?.digest, r?.provenance.host, r?.provenance.started, r?.provenance.finished, c.hash]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

const fmt = (v: number, digits = 3) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString());

function intervalText(i: Interval | null): string {
  if (!i) return '-';
  return i.n === 1 ? fmt(i.median) : `${fmt(i.median)} <small>[${fmt(i.lo)}, ${fmt(i.hi)}]</small>`;
}

function coverageNote(ts: TargetSummary[]): string {
  const cov = new Set<string>();
  for (const t of ts) for (const s of t.samplers) if (s.essPerSecond && s.essPerSecond.n > 1) cov.add(`${Math.round(100 * s.essPerSecond.coverage)} % (n = ${s.essPerSecond.n})`);
  return cov.size ? `Brackets: order-statistic interval for the median across seeds, coverage ${[...cov].join(', ')}.` : '';
}

function tableHtml(t: TargetSummary): string {
  const head = ['rank', 'sampler', 'cells', 'ESS/s', 'ESS/1k grads', 'ESS/1k evals', 'KL', 'bias (max |Δmean|/sd)', 'R-hat > 1.01', 'k-hat > 0.7', 'divergent', 'errors'];
  const rows = t.samplers.map((s: SamplerSummary) => {
    const f = s.failures;
    const warn = (n: number) => `<td${n > 0 ? ' class="warn"' : ''}>${n}</td>`;
    return `<tr><td>${s.rank ?? '-'}</td><td>${escapeHtml(s.sampler)}</td><td>${s.done}/${s.total}</td><td>${intervalText(s.essPerSecond)}</td><td>${intervalText(s.essPer1000Grads)}</td><td>${intervalText(s.essPer1000Evals)}</td><td>${intervalText(s.kl)}</td><td>${intervalText(s.biasMax)}</td>${warn(f.rhat)}${warn(f.khat)}<td${f.divergent ? ' class="warn"' : ''}>${f.divergent}${f.divergences ? ` (${f.divergences})` : ''}</td>${warn(f.errors)}</tr>`;
  });
  return `<table class="summary"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** Median and interval per sampler for each metric, and every seed's value as a tick. */
export function rankingFigure(t: TargetSummary, cells: CellDef[], results: Map<string, CellResult>): Figure {
  const metrics: [keyof CellMetrics & keyof SamplerSummary, string, boolean][] = [
    ['essPerSecond', 'ESS per second', true],
    ['essPer1000Grads', 'ESS per 1000 gradients', true],
    ['kl', 'KL to ground truth', false],
    ['biasMax', 'bias: max |Δmean| / sd', false],
  ];
  const summaries: Record<string, unknown>[] = [];
  const seeds: Record<string, unknown>[] = [];
  for (const [key, label] of metrics) {
    for (const s of t.samplers) {
      const i = s[key] as Interval | null;
      if (i) summaries.push({ sampler: s.sampler, metric: label, median: i.median, lo: i.lo, hi: i.hi });
    }
    for (const c of cells) {
      const r = results.get(c.id);
      const v = r && !r.error ? r.metrics[key] : null;
      if (c.target.label === t.target && typeof v === 'number' && Number.isFinite(v)) seeds.push({ sampler: c.sampler.label, metric: label, value: v, seed: String(c.seed) });
    }
  }
  const order = t.samplers.map((s) => s.sampler);
  const present = metrics.filter(([, l]) => summaries.some((v) => v.metric === l));
  const panel = (label: string, log: boolean) => ({
    title: label,
    width: 200,
    height: { step: 20 },
    layer: [
      { data: { values: summaries.filter((v) => v.metric === label) }, mark: 'rule', encoding: { y: { field: 'sampler', type: 'nominal', sort: order, title: null }, x: { field: 'lo', type: 'quantitative', scale: { type: log ? 'log' : 'linear', zero: false }, title: null }, x2: { field: 'hi' } } },
      { data: { values: seeds.filter((v) => v.metric === label) }, mark: { type: 'tick', opacity: 0.5, thickness: 1 }, encoding: { y: { field: 'sampler', type: 'nominal', sort: order }, x: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'sampler' }, { field: 'seed' }, { field: 'value', format: '.3g' }] } },
      { data: { values: summaries.filter((v) => v.metric === label) }, mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'sampler', type: 'nominal', sort: order }, x: { field: 'median', type: 'quantitative' }, color: { field: 'sampler', type: 'nominal', sort: order, legend: null }, tooltip: [{ field: 'sampler' }, { field: 'median', format: '.3g' }, { field: 'lo', format: '.3g' }, { field: 'hi', format: '.3g' }] } },
    ],
  });
  return {
    id: 'ranking',
    title: 'Samplers across seeds',
    caption: 'Dot: median across seeds; bar: order-statistic interval for the median; ticks: each seed. ESS axes are logarithmic. Flow samplers are charged their training time and gradients.',
    mode: 'vega-lite',
    spec: { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', hconcat: present.map(([, label, log]) => panel(label, log)), resolve: { scale: { x: 'independent' } } },
    expect: [{ markClass: 'mark-symbol', min: Math.min(1, summaries.length) }],
  };
}

/** The comparison report's efficiency bars, fed with the medians across seeds. */
function medianBars(t: TargetSummary): Figure {
  const rows: SummaryRow[] = t.samplers.map((s) => ({
    ...emptyRow(s.sampler),
    essPerSecond: s.essPerSecond?.median ?? null,
    essPer1000Evals: s.essPer1000Evals?.median ?? null,
    kl: s.kl?.median ?? null,
  }));
  const f = barsFigure(rows);
  return { ...f, id: 'efficiency-median', title: 'Efficiency and accuracy (medians across seeds)' };
}

export interface StudyReportFiles {
  report: string;
  csv: string;
  json: string;
  summary: string;
}

export async function writeStudyReport(dir: string, spec: StudySpec, cells: CellDef[], results: Map<string, CellResult>, meta: Record<string, unknown>): Promise<StudyReportFiles> {
  const summary = summarizeStudy(cells, results);
  const specs: PageFigureSpec[] = [];
  const sections = summary
    .map((t, ti) => {
      const figs = [rankingFigure(t, cells, results), medianBars(t)].filter((f) => (f.spec as { hconcat?: unknown[] }).hconcat?.length !== 0);
      return `<section>
<h2>Target: ${escapeHtml(t.target)}</h2>
${tableHtml(t)}
${figs.map((f, fi) => figureHtml(f, `fig-${ti}-${fi}`, specs)).join('\n')}
</section>`;
    })
    .join('\n');
  const done = [...results.values()].length;
  const intro = `<p>${spec.targets.length} targets × ${spec.samplers.length} samplers × ${spec.seeds.length} seeds = ${cells.length} cells; ${done} done${done < cells.length ? ` (${cells.length - done} still to run: rerun the study to finish it)` : ''}.
Samplers are ranked per target by the median ESS/s across seeds. ESS is the minimum bulk ESS over parameters; flow samplers pay for their training in time, evaluations and gradients.
KL (kNN estimate against exact draws) and bias need a target with known truth. ${escapeHtml(coverageNote(summary))}
Every cell's numbers are in <code>cells.csv</code> and <code>cells.json</code>.</p>`;
  const html = await renderPage({ title: `flowsampler study: ${spec.name}`, intro, body: sections, specs, meta });
  const files: StudyReportFiles = { report: join(dir, 'report.html'), csv: join(dir, 'cells.csv'), json: join(dir, 'cells.json'), summary: join(dir, 'summary.json') };
  await writeFileAtomic(files.csv, cellsCsv(cells, results));
  await writeJsonAtomic(files.json, cells.map((c) => results.get(c.id) ?? { id: c.id, hash: c.hash, status: 'pending' }));
  await writeJsonAtomic(files.summary, { study: spec.name, ...meta, targets: summary });
  await writeFileAtomic(files.report, html);
  return files;
}
