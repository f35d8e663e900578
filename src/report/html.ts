/**
 * report.html: one self-contained page (vega, vega-lite and vega-embed inlined; no network) with
 * the summary table and the figures of each target. Figures render with the SVG renderer, and
 * each container gets data-rendered="true" (or data-error) once vega-embed is done, which the
 * end-to-end browser test waits for.
 */
import type { Figure } from './figure.js';
import { type SummaryRow, cellText, columnsFor } from './summaryRow.js';
import { escapeHtml, jsonForScript } from './escape.js';
import { vendorScripts } from './vendorScripts.js';

export interface ReportTargetInfo {
  name: string;
  dim: number;
  description: string;
  params: Readonly<Record<string, number | string>>;
  /** The user's expression, for --expr targets. */
  expression?: string;
}

export interface ReportSection {
  target: ReportTargetInfo;
  rows: SummaryRow[];
  figures: Figure[];
  /** Free-text remarks, e.g. which samplers were interrupted. */
  notes?: string[];
}

export interface ReportInput {
  title: string;
  sections: ReportSection[];
  /** Seed, versions, machine, command line: shown in a details box. */
  meta: Record<string, unknown>;
}

function tableHtml(rows: SummaryRow[]): string {
  const cols = columnsFor(rows);
  const head = cols.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('');
  const body = rows
    .map((r) => {
      if (r.error) {
        return `<tr class="failed"><td>${escapeHtml(r.sampler)}</td><td colspan="${cols.length - 1}">failed: ${escapeHtml(r.error)}</td></tr>`;
      }
      const tds = cols.map((c) => {
        const v = (r as unknown as Record<string, unknown>)[c.key];
        const codes = new Set((r.warnings ?? []).map((w) => w.code));
        const flagged =
          (c.key === 'rhat' && (codes.has('rhat') || (typeof v === 'number' && v > 1.01))) ||
          (c.key === 'khat' && (codes.has('khat') || (typeof v === 'number' && v > 0.7))) ||
          (c.key === 'divergences' && typeof v === 'number' && v > 0) ||
          ((c.key === 'essBulk' || c.key === 'essTail') && codes.has('low-ess')) ||
          (c.key === 'warnings' && codes.size > 0) ||
          (c.key === 'coverage' && typeof v === 'string' && v !== 'ok') ||
          (c.key === 'modes' && typeof r.modes === 'number' && typeof r.modesVisited === 'number' && r.modesVisited < r.modes);
        return `<td${flagged ? ' class="warn"' : ''}>${escapeHtml(cellText(r, c))}</td>`;
      });
      return `<tr>${tds.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The rows' warnings in full, under the table (the table shows only their codes). */
function warningsHtml(rows: SummaryRow[]): string {
  const items = rows.flatMap((r) => (r.warnings ?? []).map((w) => `<li><b>${escapeHtml(r.sampler)}</b> [${escapeHtml(w.code)}]: ${escapeHtml(w.message)}</li>`));
  return items.length ? `<ul class="warnings">\n${items.join('\n')}\n</ul>` : '';
}

function paramsText(p: Readonly<Record<string, number | string>>): string {
  const entries = Object.entries(p);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : 'none';
}

const style = `
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
h1{font-size:1.6em} h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:4px}
table.summary{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:12px 0}
table.summary th,table.summary td{border:1px solid #ddd;padding:4px 8px;text-align:right}
table.summary th:first-child,table.summary td:first-child{text-align:left}
td.warn{background:#fde2e1} tr.failed td{color:#a00} ul.warnings{color:#8a1c00;font-size:0.92em}
figure{margin:20px 0} figcaption{color:#555;font-size:0.9em;max-width:900px}
.figure-title{font-weight:600;margin-bottom:6px} code{background:#f4f4f4;padding:1px 4px}
details pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:0.85em}
`;

/** One figure's container; its spec is pushed onto `specs` for the page's embed script. */
export function figureHtml(f: Figure, domId: string, specs: PageFigureSpec[]): string {
  specs.push({ id: domId, mode: f.mode, spec: f.spec });
  return `<figure><div class="figure-title">${escapeHtml(f.title)}</div><div class="vega-figure" id="${domId}" data-figure="${escapeHtml(f.id)}"></div><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`;
}

export interface PageFigureSpec {
  id: string;
  mode: string;
  spec: unknown;
}

/**
 * A self-contained page: vega, vega-lite and vega-embed inlined, `body` (already escaped HTML)
 * and the figures whose containers figureHtml made. Shared by report.html and the study report.
 */
export async function renderPage(input: { title: string; intro: string; body: string; specs: PageFigureSpec[]; meta: Record<string, unknown>; extraStyle?: string }): Promise<string> {
  const [vega, vegaLite, vegaEmbed] = await vendorScripts();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${style}${input.extraStyle ?? ''}</style>
<script>${vega}</script>
<script>${vegaLite}</script>
<script>${vegaEmbed}</script>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
${input.intro}
${input.body}
<details><summary>Run details (seed, versions, machine)</summary><pre>${escapeHtml(JSON.stringify(input.meta, null, 2))}</pre></details>
<script type="application/json" id="figure-specs">${jsonForScript(input.specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('figure-specs').textContent);
  specs.forEach(function (f) {
    var el = document.getElementById(f.id);
    vegaEmbed(el, f.spec, { mode: f.mode, renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function () { el.setAttribute('data-rendered', 'true'); })
      .catch(function (e) { el.setAttribute('data-error', String(e && e.message || e)); el.textContent = 'figure failed to render: ' + (e && e.message || e); });
  });
})();
</script>
</body>
</html>
`;
}

/** The complete HTML text of the report. */
export async function renderReportHtml(input: ReportInput): Promise<string> {
  const specs: PageFigureSpec[] = [];
  const sections = input.sections
    .map((s, si) => {
      const figs = s.figures.map((f, fi) => figureHtml(f, `fig-${si}-${fi}`, specs)).join('\n');
      const expr = s.target.expression ? `<p>Expression: <code>${escapeHtml(s.target.expression)}</code></p>` : '';
      const notes = (s.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n');
      return `<section>
<h2>Target: ${escapeHtml(s.target.name)} <small>(dim ${escapeHtml(s.target.dim)})</small></h2>
<p>${escapeHtml(s.target.description)}. Parameters: ${escapeHtml(paramsText(s.target.params))}.</p>
${expr}
${notes}
${tableHtml(s.rows)}
${warningsHtml(s.rows)}
${figs}
</section>`;
    })
    .join('\n');
  return renderPage({
    title: input.title,
    intro: '<p>ESS bulk/tail: minimum over parameters; R-hat: maximum (values above 1.01, k-hat above its threshold, divergences and low ESS are highlighted; the warnings under each table say what they mean). ESS/s counts flow training time; ESS per 1000 evaluations counts the training\'s density evaluations.</p>',
    body: sections,
    specs,
    meta: input.meta,
  });
}
