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
import { checkArray, FLOAT64_BYTES, MAX_TYPED_ARRAY_LENGTH } from '../core/memory.js';
import { makeWarning, type Warning } from '../core/warnings.js';

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

/**
 * Parameter values larger than this cannot be summarised: their squares overflow float64 (the
 * variance, hence sd, R-hat and ESS, would come out as Infinity or NaN).
 */
export const MAX_ABS_VALUE = 1e150;

function parseValue(raw: string): number | undefined {
  // Fast path: a plain number, as nearly every field is (only digits, signs, '.', 'e' and a
  // value Number accepts; anything else takes the careful path below).
  const n = raw.length;
  let plain = n > 0;
  for (let i = 0; plain && i < n; i++) {
    const c = raw.charCodeAt(i);
    plain = (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69;
  }
  if (plain) {
    const v = Number(raw);
    if (!Number.isNaN(v)) return v;
  }
  const s = unquote(raw.trim());
  if (NUMBER.test(s)) return Number(s);
  const low = s.toLowerCase();
  if (low === 'nan' || low === '-nan') return NaN;
  if (low === 'inf' || low === 'infinity' || low === '+inf') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  return undefined;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s;
}

/** Splits one CSV line; fields may be double-quoted (RFC 4180: "" inside quotes is a quote). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '""';
        i++;
      } else if (ch === '"') {
        quoted = false;
        cur += ch;
      } else cur += ch;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else {
      if (ch === '"') quoted = true;
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** True for sampler columns (`lp__`, `accept_stat__`, ...), which are not parameters. */
export function isSamplerColumn(name: string): boolean {
  return name.endsWith('__');
}

/**
 * A CmdStan CSV file parsed line by line: rows go into one growing Float64Array (row-major), so
 * a file of any size costs 8 bytes per value, and the same parser serves the in-memory reader and
 * the streaming one. Warm-up rows (before `# Adaptation terminated`) are counted, not kept,
 * unless `keepWarmup`.
 */
export class StanCsvParser {
  columns: string[] | null = null;
  config: Record<string, string> = {};
  rows = 0;
  values = new Float64Array(1024);
  lines = new Int32Array(128);
  warmupRows = 0;
  warmup: Float64Array[] = [];
  private lineNo = 0;

  constructor(readonly file: string, private readonly keepWarmup = false) {}

  push(line: string): void {
    const lineNo = ++this.lineNo;
    const c0 = line.charCodeAt(0);
    // Data lines start with a digit or a sign: skip the trim for them.
    const plain = (c0 >= 48 && c0 <= 57) || c0 === 45;
    const trimmed = plain ? line : line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const body = trimmed.slice(1).trim();
      if (/^Adaptation terminated/i.test(body) && this.columns) {
        // Everything before this marker was warm-up (only present with save_warmup = 1).
        this.warmupRows += this.rows;
        if (this.keepWarmup) for (let r = 0; r < this.rows; r++) this.warmup.push(this.row(r).slice());
        this.rows = 0;
      }
      const eq = body.indexOf('=');
      if (eq > 0) {
        const key = body.slice(0, eq).trim();
        const value = body.slice(eq + 1).trim().replace(/\s*\(Default\)$/, '');
        if (/^[A-Za-z_][\w. ]*$/.test(key) && !(key in this.config)) this.config[key] = value;
      }
      return;
    }
    const fields = splitCsvLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (!this.columns) {
      const names = fields.map((f) => unquote(f.trim()).trim());
      const seen = new Set<string>();
      names.forEach((n, j) => {
        if (n === '') throw new ParseError(`header column ${j + 1} is empty`, lineNo, this.file);
        if (NUMBER.test(n)) throw new ParseError(`expected a header line of column names, found the number '${n}'`, lineNo, this.file);
        if (seen.has(n)) throw new ParseError(`duplicate column '${n}' in the header`, lineNo, this.file);
        seen.add(n);
      });
      this.columns = names;
      return;
    }
    const cols = this.columns;
    if (fields.length !== cols.length) {
      throw new ParseError(`expected ${cols.length} values (one per column), got ${fields.length}`, lineNo, this.file);
    }
    const need = (this.rows + 1) * cols.length;
    if (need > this.values.length) {
      checkArray(`${this.file}: ${this.rows + 1} rows of ${cols.length} columns`, need, FLOAT64_BYTES);
      const grown = new Float64Array(Math.max(need, Math.min(2 * this.values.length, MAX_TYPED_ARRAY_LENGTH)));
      grown.set(this.values);
      this.values = grown;
    }
    if (this.rows >= this.lines.length) {
      const grown = new Int32Array(2 * this.lines.length);
      grown.set(this.lines);
      this.lines = grown;
    }
    const off = this.rows * cols.length;
    for (let j = 0; j < fields.length; j++) {
      const v = parseValue(fields[j]);
      if (v === undefined) {
        throw new ParseError(`column '${cols[j]}': '${fields[j].trim()}' is not a number`, lineNo, this.file);
      }
      this.values[off + j] = v;
    }
    this.lines[this.rows] = lineNo;
    this.rows++;
  }

  /** Row r (post-warm-up) as a view. */
  row(r: number): Float64Array {
    const k = this.columns!.length;
    return this.values.subarray(r * k, (r + 1) * k);
  }

  /** Checks the file as a whole once every line is in: a header, and at least one draw. */
  finish(): this {
    if (!this.columns) throw new ParseError('no header line: is this a CmdStan CSV file?', undefined, this.file);
    if (this.rows === 0) throw new ParseError('the file has a header but no draws', undefined, this.file);
    return this;
  }
}

/** Parses one CmdStan CSV text. Malformed lines throw a ParseError naming file and line. */
export function readStanCsv(text: string, fileName = '<input>'): StanCsv {
  const p = new StanCsvParser(fileName, true);
  for (const line of text.split(/\r?\n/)) p.push(line);
  p.finish();
  return {
    file: fileName,
    columns: p.columns!,
    draws: Array.from({ length: p.rows }, (_, r) => p.row(r)),
    lines: Array.from(p.lines.subarray(0, p.rows)),
    warmupDraws: p.warmup,
    config: p.config,
  };
}

/** Sampler columns of the chains read by readStanCsvFiles: name -> one array per chain. */
export type SamplerColumns = Record<string, Float64Array[]>;

/** What the chain readers return: the Draws, the sampler columns, the parsed files and what looks wrong in them. */
export interface StanCsvChains {
  draws: Draws;
  samplerColumns: SamplerColumns;
  files: StanCsv[];
  /** Suspect input that is not an error (e.g. two chains with identical draws). */
  warnings: Warning[];
}

function fileView(p: StanCsvParser): StanCsv {
  return { file: p.file, columns: p.columns!, draws: [], lines: [], warmupDraws: [], config: p.config };
}

/**
 * Finished parsers (one per chain, see StanCsvParser) -> Draws. All files must have the same
 * columns in the same order and the same number of draws; parameter values must be finite (a
 * NaN/Inf names its file, line and column) and below 1e150 in magnitude; `divergent__` must be 0
 * or 1. Sampler columns go to `samplerColumns`; `acceptance` is the mean of accept_stat__ and
 * `divergences` the sum of divergent__ when those columns exist. Two files with identical draws
 * are a warning.
 */
export function assembleChains(paths: string[], files: StanCsvParser[]): StanCsvChains {
  const first = files[0];
  const cols0 = first.columns!;
  for (const f of files.slice(1)) {
    const cols = f.columns!;
    if (cols.length !== cols0.length || cols.some((c, j) => c !== cols0[j])) {
      const j = cols.findIndex((c, k) => c !== cols0[k]);
      const detail =
        j >= 0 && j < cols0.length ? `column ${j + 1} is '${cols[j]}' there but '${cols0[j]}' in ${first.file}` : `${cols.length} columns there but ${cols0.length} in ${first.file}`;
      throw new DimensionError(`chains have different columns: ${f.file}: ${detail}`);
    }
    if (f.rows !== first.rows) {
      throw new DimensionError(`chains have different lengths: ${first.file} has ${first.rows} draws, ${f.file} has ${f.rows}`);
    }
  }
  const k = cols0.length;
  const paramIdx = cols0.map((c, j) => (isSamplerColumn(c) ? -1 : j)).filter((j) => j >= 0);
  if (paramIdx.length === 0) throw new ParameterError(`${first.file}: no parameter columns (every column ends in '__')`);
  const nDraws = first.rows;
  const dim = paramIdx.length;
  checkArray(`${files.length} chains x ${nDraws} draws x ${dim} parameters`, files.length * nDraws * dim, FLOAT64_BYTES);
  const values = new Float64Array(files.length * nDraws * dim);
  const samplerColumns: SamplerColumns = {};
  for (const c of cols0) if (isSamplerColumn(c)) samplerColumns[c] = [];
  const divIdx = cols0.indexOf('divergent__');
  files.forEach((f, c) => {
    const v = f.values;
    for (let i = 0; i < nDraws; i++) {
      for (let d = 0; d < dim; d++) {
        const x = v[i * k + paramIdx[d]];
        if (!Number.isFinite(x)) {
          throw new NonFiniteError(`${f.file}:${f.lines[i]}: column '${cols0[paramIdx[d]]}' is ${x}; diagnostics need finite draws`);
        }
        if (Math.abs(x) > MAX_ABS_VALUE) {
          throw new ParseError(
            `column '${cols0[paramIdx[d]]}' is ${x}: values beyond ±${MAX_ABS_VALUE} overflow the statistics (their squares exceed float64); rescale the parameter`,
            f.lines[i],
            f.file,
          );
        }
        values[(c * nDraws + i) * dim + d] = x;
      }
      if (divIdx >= 0) {
        const dv = v[i * k + divIdx];
        if (dv !== 0 && dv !== 1) throw new ParseError(`column 'divergent__' is ${dv}: it must be 0 or 1 (one transition per row)`, f.lines[i], f.file);
      }
    }
    cols0.forEach((name, j) => {
      if (isSamplerColumn(name)) {
        const col = new Float64Array(nDraws);
        for (let i = 0; i < nDraws; i++) col[i] = v[i * k + j];
        samplerColumns[name].push(col);
      }
    });
  });
  const warnings: Warning[] = [];
  // Chains with identical draws: a copied file (the same file twice is caught above).
  const block = nDraws * dim;
  for (let a = 0; a < files.length; a++) {
    for (let b = a + 1; b < files.length; b++) {
      let same = true;
      for (let i = 0; same && i < block; i++) same = values[a * block + i] === values[b * block + i];
      if (same) {
        warnings.push(makeWarning('input', `${files[b].file} has exactly the draws of ${files[a].file}: the same chain given twice would make R-hat and ESS look better than they are`, { chainA: a + 1, chainB: b + 1 }));
      }
    }
  }
  const meanOf = (arrs: Float64Array[] | undefined) => {
    if (!arrs) return undefined;
    let s = 0;
    let n = 0;
    for (const a of arrs) for (const x of a) if (Number.isFinite(x)) (s += x), n++;
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
    paramNames: paramIdx.map((j) => cols0[j]),
    wallTimeMs: NaN,
    densityEvals: NaN,
    gradEvals: NaN,
    acceptance: acceptance ?? NaN,
    ...(divergences !== undefined ? { divergences } : {}),
    info: { files: paths.join(','), samplerColumns: Object.keys(samplerColumns).join(','), warmupDrawsSkipped: files.reduce((a, f) => a + f.warmupRows, 0) },
    warnings,
  });
  return { draws, samplerColumns, files: files.map(fileView), warnings };
}

/** CmdStan CSV texts, one per chain (e.g. files a browser page was given) -> Draws. */
export function stanCsvChains(texts: { name: string; text: string }[]): StanCsvChains {
  if (texts.length === 0) throw new ParameterError('no CSV files given');
  const parsers = texts.map(({ name, text }) => {
    const parser = new StanCsvParser(name);
    for (const line of text.split(/\r?\n/)) parser.push(line);
    return parser.finish();
  });
  return assembleChains(texts.map((t) => t.name), parsers);
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
