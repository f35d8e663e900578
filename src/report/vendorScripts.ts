/**
 * The JavaScript of vega, vega-lite and vega-embed, read from their installed packages at run
 * time and inlined into report.html so that the report opens offline, with no CDN.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The build/ folder of an installed package (its entry point lives there for all three). */
function buildDir(pkg: string): string {
  return dirname(fileURLToPath(import.meta.resolve(pkg)));
}

let cache: string[] | null = null;

/** [vega, vega-lite, vega-embed] minified UMD bundles, in load order. */
export async function vendorScripts(): Promise<string[]> {
  if (cache) return cache;
  const files = [
    join(buildDir('vega'), 'vega.min.js'),
    join(buildDir('vega-lite'), 'vega-lite.min.js'),
    join(buildDir('vega-embed'), 'vega-embed.min.js'),
  ];
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  // Defensive: a literal '</script' inside inlined code would end the element early.
  cache = texts.map((t) => t.replace(/<\/script/gi, '<\\/script'));
  return cache;
}
