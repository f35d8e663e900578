/**
 * PNG export of report figures for papers: Vega-Lite is compiled to Vega, a headless vega View
 * renders SVG, and @resvg/resvg-js rasterises it (no browser, no native canvas needed).
 */
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { join } from 'node:path';
import type { Figure } from './figure.js';
import { writeFileAtomicMkdir } from '../core/atomicWrite.js';

/** The Vega spec of a figure (Vega-Lite compiled). */
export function toVegaSpec(fig: Figure): vega.Spec {
  if (fig.mode === 'vega') return fig.spec as vega.Spec;
  return vegaLite.compile(fig.spec as unknown as vegaLite.TopLevelSpec).spec as vega.Spec;
}

/** Renders a figure to an SVG string in Node. */
export async function figureToSvg(fig: Figure): Promise<string> {
  const view = new vega.View(vega.parse(toVegaSpec(fig)), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a figure to PNG bytes at `scale` x its CSS size (2 = print-friendly). */
export async function figureToPng(fig: Figure, scale = 2): Promise<Uint8Array> {
  const svg = await figureToSvg(fig);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Writes every figure to `dir/<prefix><id>.png`; returns the paths written. */
export async function exportFiguresPng(figures: Figure[], dir: string, prefix = '', scale = 2): Promise<string[]> {
  const paths: string[] = [];
  for (const fig of figures) {
    const path = join(dir, `${prefix}${fig.id}.png`);
    await writeFileAtomicMkdir(path, await figureToPng(fig, scale));
    paths.push(path);
  }
  return paths;
}
