/**
 * A report figure: a declarative Vega or Vega-Lite spec plus a title and caption. The same spec
 * is embedded in report.html (rendered by vega-embed in the browser) and exported to PNG in Node
 * (src/report/png.ts), so the pictures in a paper and in the report are the same picture.
 */
export interface Figure {
  /** File-name safe id, e.g. 'density-x1-x2', 'trace'. Used for figures/<id>.png. */
  id: string;
  title: string;
  caption: string;
  mode: 'vega' | 'vega-lite';
  spec: Record<string, unknown>;
  /** What the end-to-end test expects to find once rendered: a mark class and a minimum count. */
  expect: { markClass: string; min: number }[];
}

/** Evenly thins `n` indices to at most `max`, keeping the first and spreading the rest. */
export function thinIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = n / max;
  return Array.from({ length: max }, (_, k) => Math.floor(k * step));
}

/** A number safe for JSON (NaN/Infinity become null, which Vega treats as missing). */
export function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** File-name safe id from arbitrary text (user-supplied target names included). */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60) || 'figure';
}
