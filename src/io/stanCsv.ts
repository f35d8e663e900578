/**
 * CmdStan's CSV output format, read and written, so that draws from any tool (CmdStan,
 * cmdstanr/cmdstanpy, or flowsampler itself) can be diagnosed and compared.
 *
 * Layout (one file per chain): `#` comment lines with the configuration (`key = value`), a
 * header line (`lp__,accept_stat__,stepsize__,...,theta.1,theta.2`), optionally warm-up draws
 * then `# Adaptation terminated` with the step size and metric as comments, the draws, and a
 * trailing comment block with timings. Columns ending in `__` are sampler columns (lp__
 * included): they are kept aside, never summarised as parameters.
 */
import type { Draws } from '../core/draws.js';
import { makeDraws } from '../core/draws.js';
import { DimensionError, NonFiniteError, ParameterError, ParseError } from '../core/errors.js';

export interface StanCsv {
  file: string;
  /** Every column in file order, sampler columns included. */
  columns: string[];
  /** Post-warm-up draws, one Float64Array per row (length columns.length). */
  draws: Float64Array[];
  /** 1-based line number of each post-warm-up row, for error messages. */
  lines: number[];
  /** Rows before `# Adaptation terminated` (written when save_warmup = 1); not used as draws. */
  warmupDraws: Float64Array[];
  /** `key = value` pairs from the comment lines (first occurrence wins). */
  config: Record<string, string>;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseValue(raw: string): number | undefined {
  const s = raw.trim();
  if (NUMBER.test(s)) return Number(s);
  const low = s.toLowerCase();
  if (low === 'nan' || low === '-nan') return NaN;
  if (low === 'inf' || low === 'infinity' || low === '+inf') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  return undefined;
}

/** True for sampler columns (`lp__`, `accept_stat__`, ...), which are not parameters. */
export function isSamplerColumn(name: string): boolean {
  return name.endsWith('__');
}

/** Parses one CmdStan CSV text. Malformed lines throw a ParseError naming file and line. */
export function readStanCsv(text: string, fileName = '<input>'): StanCsv {
  const lines = text.split(/\r?\n/);
  const config: Record<string, string> = {};
  let columns: string[] | null = null;
  let rows: Float64Array[] = [];
  let rowLines: number[] = [];
  let warmupDraws: Float64Array[] = [];
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    const line = lines[li];
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const body = trimmed.slice(1).trim();
      if (/^Adaptation terminated/i.test(body) && columns) {
        // Everything before this marker was warm-up (only present with save_warmup = 1).
        warmupDraws = rows;
        rows = [];
        rowLines = [];
      }
      const eq = body.indexOf('=');
      if (eq > 0) {
        const key = body.slice(0, eq).trim();
        const value = body.slice(eq + 1).trim().replace(/\s*\(Default\)$/, '');
        if (/^[A-Za-z_][\w. ]*$/.test(key) && !(key in config)) config[key] = value;
      }
      continue;
    }
    if (!columns) {
      const names = line.split(',').map((s) => s.trim());
      const seen = new Set<string>();
      names.forEach((n, j) => {
        if (n === '') throw new ParseError(`header column ${j + 1} is empty`, lineNo, fileName);
        if (NUMBER.test(n)) throw new ParseError(`expected a header line of column names, found the number '${n}'`, lineNo, fileName);
        if (seen.has(n)) throw new ParseError(`duplicate column '${n}' in the header`, lineNo, fileName);
        seen.add(n);
      });
      columns = names;
      continue;
    }
    const fields = line.split(',');
    if (fields.length !== columns.length) {
      throw new ParseError(`expected ${columns.length} values (one per column), got ${fields.length}`, lineNo, fileName);
    }
    const row = new Float64Array(columns.length);
    for (let j = 0; j < fields.length; j++) {
      const v = parseValue(fields[j]);
      if (v === undefined) {
        throw new ParseError(`column '${columns[j]}': '${fields[j].trim()}' is not a number`, lineNo, fileName);
      }
      row[j] = v;
    }
    rows.push(row);
    rowLines.push(lineNo);
  }
  if (!columns) throw new ParseError('no header line: is this a CmdStan CSV file?', undefined, fileName);
  if (rows.length === 0) throw new ParseError('the file has a header but no draws', undefined, fileName);
  return { file: fileName, columns, draws: rows, lines: rowLines, warmupDraws, config };
}

/** Sampler columns of the chains: name -> one array per chain. */
export type SamplerColumns = Record<string, Float64Array[]>;

/**
 * One parsed CmdStan CSV file per chain (readStanCsv) into Draws; stanCsvFiles.ts reads them
 * from disk (Node). All files must have the same columns in the
 * same order and the same number of draws; parameter values must be finite (a NaN/Inf names its
 * file, line and column). Sampler columns go to `samplerColumns`; `acceptance` is the mean of
 * accept_stat__ and `divergences` the sum of divergent__ when those columns exist.
 */
export function stanCsvChains(files: StanCsv[]): { draws: Draws; samplerColumns: SamplerColumns; files: StanCsv[] } {
  if (files.length === 0) throw new ParameterError('no CSV files given');
  const first = files[0];
  for (const f of files.slice(1)) {
    if (f.columns.length !== first.columns.length || f.columns.some((c, j) => c !== first.columns[j])) {
      const j = f.columns.findIndex((c, k) => c !== first.columns[k]);
      const detail =
        j >= 0 && j < first.columns.length
          ? `column ${j + 1} is '${f.columns[j]}' there but '${first.columns[j]}' in ${first.file}`
          : `${f.columns.length} columns there but ${first.columns.length} in ${first.file}`;
      throw new DimensionError(`chains have different columns: ${f.file}: ${detail}`);
    }
    if (f.draws.length !== first.draws.length) {
      throw new DimensionError(
        `chains have different lengths: ${first.file} has ${first.draws.length} draws, ${f.file} has ${f.draws.length}`,
      );
    }
  }
  const paramIdx = first.columns.map((c, j) => (isSamplerColumn(c) ? -1 : j)).filter((j) => j >= 0);
  if (paramIdx.length === 0) throw new ParameterError(`${first.file}: no parameter columns (every column ends in '__')`);
  const nDraws = first.draws.length;
  const dim = paramIdx.length;
  const values = new Float64Array(files.length * nDraws * dim);
  const samplerColumns: SamplerColumns = {};
  for (const c of first.columns) if (isSamplerColumn(c)) samplerColumns[c] = [];
  files.forEach((f, c) => {
    for (let i = 0; i < nDraws; i++) {
      const row = f.draws[i];
      for (let d = 0; d < dim; d++) {
        const v = row[paramIdx[d]];
        if (!Number.isFinite(v)) {
          throw new NonFiniteError(
            `${f.file}:${f.lines[i]}: column '${f.columns[paramIdx[d]]}' is ${v}; diagnostics need finite draws`,
          );
        }
        values[(c * nDraws + i) * dim + d] = v;
      }
    }
    f.columns.forEach((name, j) => {
      if (isSamplerColumn(name)) samplerColumns[name].push(Float64Array.from(f.draws, (r) => r[j]));
    });
  });
  const meanOf = (arrs: Float64Array[] | undefined) => {
    if (!arrs) return undefined;
    let s = 0;
    let n = 0;
    for (const a of arrs) for (const v of a) if (Number.isFinite(v)) (s += v), n++;
    return n > 0 ? s / n : undefined;
  };
  const acceptance = meanOf(samplerColumns['accept_stat__']);
  const div = samplerColumns['divergent__'];
  const divergences = div ? div.reduce((a, arr) => a + arr.reduce((x, y) => x + y, 0), 0) : undefined;
  const cfg = first.config;
  const draws = makeDraws({
    sampler: cfg['sampler'] ?? (cfg['engine'] ? `stan-${cfg['engine']}` : cfg['algorithm'] ? `stan-${cfg['algorithm']}` : 'stan-csv'),
    target: cfg['target'] ?? cfg['model'] ?? '',
    chains: files.length,
    draws: nDraws,
    dim,
    values,
    paramNames: paramIdx.map((j) => first.columns[j]),
    wallTimeMs: NaN,
    densityEvals: NaN,
    gradEvals: NaN,
    acceptance: acceptance ?? NaN,
    ...(divergences !== undefined ? { divergences } : {}),
    info: { files: files.map((f) => f.file).join(','), samplerColumns: Object.keys(samplerColumns).join(','), warmupDrawsSkipped: files.reduce((a, f) => a + f.warmupDraws.length, 0) },
  });
  return { draws, samplerColumns, files };
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0';
  return String(v); // shortest string that round-trips exactly
}

/**
 * One chain of `draws` in CmdStan's layout: comment header, `lp__` first (0 when not given,
 * as CmdStan's fixed_param sampler writes), then any other sampler columns from `extraColumns`
 * (names must end in `__`, one value per draw), then the parameters.
 */
export function writeStanCsv(draws: Draws, chain: number, extraColumns: Record<string, Float64Array> = {}): string {
  if (!Number.isInteger(chain) || chain < 0 || chain >= draws.chains) {
    throw new ParameterError(`writeStanCsv: chain must be an integer in [0, ${draws.chains - 1}], got ${chain}`);
  }
  for (const [name, col] of Object.entries(extraColumns)) {
    if (!isSamplerColumn(name)) throw new ParameterError(`writeStanCsv: extra column '${name}' must end in '__' (sampler columns only)`);
    if (col.length !== draws.draws) {
      throw new DimensionError(`writeStanCsv: extra column '${name}' has ${col.length} values for ${draws.draws} draws`);
    }
  }
  for (const p of draws.paramNames) {
    if (/[,\s#]/.test(p) || p === '') throw new ParameterError(`writeStanCsv: parameter name '${p}' cannot be a CSV column name`);
  }
  const extraNames = ['lp__', ...Object.keys(extraColumns).filter((n) => n !== 'lp__')];
  const lp = extraColumns['lp__'];
  const out: string[] = [
    '# flowsampler: draws in CmdStan CSV layout',
    `# sampler = ${draws.sampler}`,
    ...(draws.target ? [`# target = ${draws.target}`] : []),
    `# chain_id = ${chain + 1}`,
    `# num_samples = ${draws.draws}`,
    ...(lp ? [] : ['# lp__ is 0: not recorded by this sampler']),
    [...extraNames, ...draws.paramNames].join(','),
  ];
  const { dim } = draws;
  for (let i = 0; i < draws.draws; i++) {
    const fields: string[] = [];
    for (const name of extraNames) fields.push(name === 'lp__' && !lp ? '0' : formatValue(extraColumns[name][i]));
    const off = (chain * draws.draws + i) * dim;
    for (let d = 0; d < dim; d++) fields.push(formatValue(draws.values[off + d]));
    out.push(fields.join(','));
  }
  if (Number.isFinite(draws.wallTimeMs)) out.push('# ', `#  Elapsed Time: ${(draws.wallTimeMs / 1000).toFixed(3)} seconds (Total, all chains)`);
  return out.join('\n') + '\n';
}
