/**
 * Property-based fuzzing of every input surface, with fast-check and fixed seeds:
 * expressions (library and CLI), CLI arguments of every command, CmdStan CSV files for
 * `diagnose`, damaged flow files for `sample`, and model and data files for `compare --model`. Each generated case must either succeed or
 * fail cleanly:
 * - the library throws a FlowsamplerError with a one-line message, never another error;
 * - the CLI exits 0, 1 (--strict warnings), 2 with exactly one `flowsampler ...` line on stderr,
 *   never a stack trace or an uncaught throw;
 * - nothing written contains a NaN; no case runs past its time limit (a hang fails the case).
 * Work per case is kept small by the generators (few draws, a training step or two), while the
 * sizes they draw include hostile ones (1e9 draws, dim 1e9) that must be refused at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/core/backend.js';
import { FlowsamplerError } from '../src/core/errors.js';
import { expressionTarget } from '../src/targets/expression.js';
import { checkTarget } from '../src/targets/checkTarget.js';
import { runCli, type CliResult } from './helpers/cliRun.js';
import * as tf from '@tensorflow/tfjs';

const root = mkdtempSync(join(tmpdir(), 'fs-fuzz-'));
let caseNo = 0;
const caseDir = () => {
  const d = join(root, `c${++caseNo}`);
  return d;
};
let cases = 0;
const outcomes: Record<string, number> = {};

let goodFlow = '';
beforeAll(async () => {
  await initBackend();
  goodFlow = join(root, 'good-flow.json');
  const r = await runCli(['train', '--target', 'banana', '--steps', '2', '--batch', '8', '--layers', '1', '--seed', '1', '--out', goodFlow]);
  if (r.code !== 0) throw new Error(r.err.join('\n'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  // How the cases ended, by surface and exit code (a fuzz that only hits errors tests little).
  console.log(`fuzz outcomes: ${JSON.stringify(outcomes)}`);
  // The bar: at least 2000 generated cases over the suite.
  expect(cases).toBeGreaterThanOrEqual(2000);
});

/** Every file under dir (recursively). */
function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The clean-outcome property of the file header for one CLI run. */
function expectClean(argv: string[], r: CliResult, outputs: string[]): void {
  const what = JSON.stringify(argv);
  expect([0, 1, 2], `${what}\n${r.err.join('\n')}`).toContain(r.code);
  const errs = r.err.filter((l) => /^flowsampler[ :]/.test(l));
  const all = [...r.err, ...r.out].join('\n');
  expect(all, what).not.toMatch(/\n\s+at .*:\d+:\d+\)?$|^\s+at .*:\d+:\d+\)?$/m);
  if (r.code === 2) {
    expect(errs.length, `${what}\n${r.err.join('\n')}`).toBeGreaterThanOrEqual(1);
    for (const l of errs) expect(l, what).not.toMatch(/[\r\n]/);
    // compare/demo may also name each failed sampler on its own line before the last one.
    if (!/^(compare|demo)$/.test(argv[0] ?? '')) expect(errs, `${what}\n${r.err.join('\n')}`).toHaveLength(1);
  }
  const written = outputs.flatMap((o) => (statSync(o, { throwIfNoEntry: false })?.isDirectory() ? filesUnder(o) : statSync(o, { throwIfNoEntry: false }) ? [o] : []));
  for (const f of written) {
    expect(f.endsWith('.tmp'), `${what}: temporary file left: ${f}`).toBe(false);
    if (!/\.(csv|json)$/.test(f)) continue;
    expect(readFileSync(f, 'utf8'), `${what}: ${f}`).not.toMatch(/(^|[,:\s[])(NaN|nan|-nan)([,\s\]}]|$)/m);
  }
}

// ---------------------------------------------------------------- expressions

const numberText = fc.oneof(
  fc.constantFrom('0', '1', '2', '0.5', '1e308', '1e-320', '1e400', '3.14159', '-0', '1e3', '.5', '00'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
  fc.integer({ min: -1000, max: 1000 }).map(String),
);
const goodFns = ['exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'tan', 'sinh', 'cosh', 'tanh', 'atan', 'log1p', 'expm1', 'square', 'cube'];
const badFns = ['import', 'evaluate', 'parse', 'f', 'max', 'createUnit', 'constructor', 'x1'];
const { expr } = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('x1', 'x2', 'x3', 'x1', 'x2', 'pi', 'e', 'x0', 'x10001', 'y'),
    numberText,
    tie('expr').map((a) => `-(${a})`),
    fc.tuple(fc.constantFrom(...goodFns, ...goodFns, ...badFns), tie('expr')).map(([f, a]) => `${f}(${a})`),
    fc.tuple(tie('expr'), fc.oneof({ weight: 9, arbitrary: fc.constantFrom('+', '-', '*', '/', '^', '+', '-', '*') }, { weight: 1, arbitrary: fc.constantFrom('=', '==', '<', ';', ':', '?', '.', ' ', ',') }), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('expr').map((a) => `(${a})`),
  ),
}));
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    'import("fs")', 'x1.constructor("return process")()', '[x1, x2]', '{a: 1}', 'x1 ? 1 : 2', 'f(x) = x', '1:3', 'x1[1]',
    '"str"', 'evaluate("1")', '-(x1^2)/8 - (x2 - x1^2/4)^2/2', 'log(x1) - x1 - x2^2/2', '-x1^2/2 + 0*x2', '((((((((((x1))))))))))',
    `${'('.repeat(3000)}x1${')'.repeat(3000)}`, 'x1'.repeat(500), '-x1^2 - x2^2'.repeat(200), '\u0000', 'x1\nx2', '-abs(x1)^0.5',
  ),
);
const anyExpr = fc.oneof({ weight: 4, arbitrary: expr }, { weight: 1, arbitrary: hostileText });
// Mostly valid densities for runs that go further than the parser: a Gaussian base plus a
// generated term in x1, x2 only (any term that is not valid still fails cleanly).
const { term } = fc.letrec((tie) => ({
  term: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('x1', 'x2', 'pi', '0.5', '3', '1e3', '1e-3'),
    tie('term').map((a) => `-(${a})`),
    fc.tuple(fc.constantFrom(...goodFns), tie('term')).map(([f, a]) => `${f}(${a})`),
    fc.tuple(tie('term'), fc.constantFrom('+', '-', '*', '/', '^'), tie('term')).map(([a, op, b]) => `(${a} ${op} ${b})`),
  ),
}));
const densityExpr = fc.oneof({ weight: 4, arbitrary: term.map((t) => `-(x1^2 + x2^2)/2 + 0.1*${t}`) }, { weight: 1, arbitrary: anyExpr });

describe('fuzz: inputs never crash, hang or write NaN', () => {
  it('expressions: a target that evaluates cleanly, or a one-line FlowsamplerError', () => {
    fc.assert(
      fc.property(anyExpr, fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 6, maxLength: 6 }), (s, xs) => {
        cases++;
        let t;
        try {
          t = expressionTarget(s);
        } catch (e) {
          expect(e, s).toBeInstanceOf(FlowsamplerError);
          expect((e as Error).message, s).not.toMatch(/[\r\n]/);
          return;
        }
        const dim = t.dim;
        for (let k = 0; k < 2; k++) {
          const x = Float64Array.from({ length: dim }, (_, i) => xs[(i + 3 * k) % xs.length]);
          const v = t.logDensity(x);
          expect(Number.isNaN(v), s).toBe(false);
          const g = new Float64Array(dim);
          const v2 = t.gradLogDensity(x, g);
          expect(Object.is(v2, v) || Math.abs(v2 - v) <= 1e-12 * Math.abs(v), s).toBe(true);
        }
        if (dim <= 3) {
          const before = tf.memory().numTensors;
          const x = tf.tensor2d(Float32Array.from({ length: 2 * dim }, (_, i) => xs[i % xs.length]), [2, dim]);
          const lp = t.logProb!(x);
          expect(lp.shape, s).toEqual([2]);
          expect(Array.from(lp.dataSync()).some(Number.isNaN), s).toBe(false);
          tf.dispose([x, lp]);
          expect(tf.memory().numTensors, s).toBe(before);
          // The check reports, never throws.
          expect(() => checkTarget(t, { nPoints: 2 }), s).not.toThrow();
        }
      }),
      { numRuns: 700, seed: 10 },
    );
  });

  it('expressions through the CLI: compare runs or fails in one line', async () => {
    await fc.assert(
      fc.asyncProperty(densityExpr, fc.constantFrom('rwm', 'nuts', 'mala', 'rejection', 'iaf', 'rwm,nuts'), async (s, samplers) => {
        cases++;
        const out = caseDir();
        // (--no-coverage: the coverage check is a sampler run of its own, not an input surface.)
        const argv = ['compare', '--expr', s, '--samplers', samplers, '--draws', '4', '--warmup', '4', '--chains', '1', '--train-steps', '1', '--batch', '8', '--no-png', '--no-coverage', '--out', out];
        const r = await runCli(argv);
        outcomes[`expr ${r.code}`] = (outcomes[`expr ${r.code}`] ?? 0) + 1;
        expectClean(argv, r, [out]);
      }),
      { numRuns: 100, seed: 11, timeout: 20_000 },
    );
  });

  // ---------------------------------------------------------------- CLI arguments

  const valid = <T>(good: T[], bad: T[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
  const count = valid(['4', '5', '10', '4e0'], ['1', '0', '-1', '-5', 'abc', '', '1.5', '1e9', '1e308', 'Infinity', 'NaN', '0x10', ' 3', '3 ', '١']);
  const small = valid(['0.5', '1', '0.01'], ['2', '0', '-1', 'x', '1.5', '', '1e-9']);
  const spec = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('banana', 'funnel:dim=3', 'ring', 'gmm40', 'gaussian', 'illgauss:dim=3', 'u1', 'u2', 'u3', 'u4') },
    fc.constantFrom('banana', 'funnel', 'ring', 'gmm40', 'gaussian', 'illgauss', 'u1', 'u2', 'u3', 'u4', 'BANANA', 'nope', '', ':', 'banana:', 'banana:dim', 'banana:dim=', 'banana:dim=2,dim=3', 'banana:zz=1'),
    fc.tuple(fc.constantFrom('banana', 'funnel', 'gaussian', 'illgauss', 'ring'), fc.constantFrom('dim', 'b', 'sigma', 'scale', 'condition', 'modes', 'radius', 'sd', 'seed'), count).map(([n, k, v]) => `${n}:${k}=${v}`),
  );
  const samplerList = fc.oneof(
    fc.constantFrom('rwm', 'nuts', 'hmc', 'mala', 'rejection', 'iaf', 'imh', 'rwm,rwm', 'bogus', '', ',', 'rwm,,nuts', 'NUTS'),
    fc.shuffledSubarray(['rwm', 'mala', 'hmc', 'nuts', 'rejection'], { minLength: 1, maxLength: 2 }).map((a) => a.join(',')),
  );
  const option = (cmd: string) =>
    fc.oneof(
      fc.tuple(fc.constant('--target'), spec),
      fc.tuple(fc.constant('--expr'), anyExpr),
      fc.tuple(fc.constant('--draws'), count),
      fc.tuple(fc.constant('--chains'), valid(['1', '2'], ['0', '1e9', 'x'])),
      fc.tuple(fc.constant('--warmup'), valid(['0', '3'], ['-1', 'x', '1e12'])),
      fc.tuple(fc.constant('--seed'), valid(['1', 'abc', '-3', '🌱', '1e400'], [''])),
      fc.tuple(fc.constant('--samplers'), samplerList),
      fc.tuple(fc.constant(cmd === 'train' ? '--steps' : '--train-steps'), valid(['1', '2'], ['0', '-1', 'x', '1.5'])),
      fc.tuple(fc.constant('--batch'), valid(['2', '8'], ['1', '0', '1e8', 'x'])),
      fc.tuple(fc.constant('--anneal'), small),
      fc.tuple(fc.constant('--layers'), valid(['1', '2'], ['0', '-2', 'x', '1e9'])),
      fc.tuple(fc.constant('--lr'), small),
      fc.tuple(fc.constant('--max-seconds'), valid(['0.2'], ['0', '-1', 'x'])),
      fc.tuple(fc.constant('--n'), valid(['1', '5'], ['0', '-1', '1e12', 'x'])),
      fc.tuple(fc.constantFrom('--bogus', '-x', '--', '--help-me', '--out=', '--json', '--strict', '--no-png', '--strict'), fc.constant('')),
    );
  // Options that make sense for each command (others appear too, rarely: they must be refused).
  const wrongOptionShare = 0.1;
  const argvFor = (cmd: string) =>
    fc.tuple(fc.array(option(cmd), { maxLength: 4 }), fc.double({ min: 0, max: 1, noNaN: true })).map(([opts, u]) => {
      const argv = [cmd];
      const fits: Record<string, string[]> = {
        compare: ['--target', '--expr', '--draws', '--chains', '--warmup', '--seed', '--samplers', '--train-steps', '--batch', '--anneal', '--strict', '--no-png'],
        train: ['--target', '--expr', '--steps', '--batch', '--layers', '--lr', '--max-seconds', '--seed', '--anneal', '--strict'],
        sample: ['--n', '--seed', '--strict'],
        targets: ['--json'],
        diagnose: ['--json', '--strict'],
      };
      const ok = fits[cmd];
      if (ok && u > wrongOptionShare) opts = opts.filter(([k]) => ok.includes(k));
      for (const [k, v] of opts) {
        if (['--bogus', '-x', '--', '--help-me', '--out=', '--json', '--strict', '--no-png'].includes(k)) argv.push(k);
        else argv.push(k, v);
      }
      return argv;
    });

  it('CLI arguments of every command: a run, or one line and exit 2', async () => {
    const cmds = fc.constantFrom('compare', 'compare', 'compare', 'train', 'train', 'sample', 'targets', 'diagnose', 'nosuch', 'demo');
    await fc.assert(
      fc.asyncProperty(cmds.chain((c) => argvFor(c)), async (argv0) => {
        cases++;
        const out = caseDir();
        let argv = argv0;
        // Keep valid runs short: always small budgets unless the case overrides them (a later
        // repeat of an option wins), and never a full demo (only its argument errors).
        const target = argv.includes('--expr') || argv.includes('--target') ? [] : ['--target', 'banana'];
        if (argv[0] === 'compare') argv = [argv[0], ...target, '--samplers', 'rwm', '--draws', '4', '--warmup', '3', '--chains', '1', '--train-steps', '1', '--batch', '8', '--no-png', '--no-coverage', ...argv.slice(1), '--out', out];
        // Reverse KL only: auto's SMC pilot would dominate the time (its path: cli.trainMethod.test.ts).
        if (argv[0] === 'train') argv = [argv[0], ...target, '--steps', '1', '--batch', '8', '--layers', '1', '--method', 'reverse-kl', ...argv.slice(1), '--out', join(out, 'f.json')];
        if (argv[0] === 'sample') argv = [argv[0], '--flow', goodFlow, ...argv.slice(1), '--out', join(out, 'd.csv')];
        if (argv[0] === 'demo') argv = [...argv, '--bogus-option'];
        if (argv[0] === 'diagnose') argv = [...argv, join(out, 'missing.csv')];
        const r = await runCli(argv);
        outcomes[`${argv[0]} ${r.code}`] = (outcomes[`${argv[0]} ${r.code}`] ?? 0) + 1;
        expectClean(argv, r, [out]);
      }),
      { numRuns: 400, seed: 12, timeout: 30_000 },
    );
  });

  // ---------------------------------------------------------------- CmdStan CSV

  const number = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String);
  const garbage = fc.constantFrom('nan', 'inf', '-inf', '1e308', '-1e308', '', 'abc', '"1.5"', '" 2 "', '1,5', '0x10', '--1', '1e', '.', '"', '""', '1e400', '-0', '\t3', 'NA', '-1', '2');
  const header = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('lp__,a,b', 'lp__,accept_stat__,divergent__,theta.1,theta.2', '"lp__","x"', 'x') },
    fc.constantFrom('lp__,a,b', 'lp__,accept_stat__,divergent__,theta.1,theta.2', '"lp__","x"', 'a,a', 'lp__,', ',x', '1,2', 'lp__,divergent__', 'x'),
    fc.array(fc.oneof(fc.constantFrom('lp__', 'divergent__', 'a', 'b', 'c.1', '"q"', ''), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 4 }).map((a) => a.join(',')),
  );
  // Valid numbers everywhere, then (in a third of the files) a few hostile fields, an extra
  // field on one row, an adaptation marker, CRLF line ends.
  const csvText = (header: fc.Arbitrary<string>) => fc
    .tuple(header, fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 4, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }), fc.array(number, { minLength: 60, maxLength: 60 }), fc.array(fc.tuple(fc.nat(200), garbage), { maxLength: 2 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.integer({ min: 0, max: 9 }))
    .map(([h, rows, numbers, hostile, corrupt, nl, comments, extraAt]) => {
      const ncol = h.split(',').length;
      const divAt = h.split(',').indexOf('divergent__');
      const lines = comments ? ['# model = fuzz', '# sampler = fuzz'] : [];
      lines.push(h);
      for (let r = 0; r < rows; r++) {
        if (extraAt === 1 && r === 3) lines.push('# Adaptation terminated');
        const cells = Array.from({ length: ncol + (r === 7 && extraAt === 0 ? 1 : 0) }, (_, j) => (j === divAt ? String((r * 7) % 3 === 0 ? 1 : 0) : numbers[(r * ncol + j) % 60]));
        if (corrupt === 0) for (const [at, g] of hostile) if (at % (rows + 1) === r) cells[at % cells.length] = g;
        lines.push(cells.join(','));
      }
      return lines.join(nl);
    });

  it('CmdStan CSV files: diagnose summarises them or fails in one line', async () => {
    // The chains of a case share their header, except now and then.
    const chains = fc.oneof({ weight: 3, arbitrary: header.chain((h) => fc.array(csvText(fc.constant(h)), { minLength: 1, maxLength: 3 })) }, { weight: 1, arbitrary: fc.array(csvText(header), { minLength: 1, maxLength: 3 }) });
    await fc.assert(
      fc.asyncProperty(chains, fc.boolean(), fc.integer({ min: 0, max: 9 }), async (texts, json, twiceDie) => {
        const twice = twiceDie === 0;
        cases++;
        const dir = caseDir();
        const { mkdirSync } = await import('node:fs');
        mkdirSync(dir, { recursive: true });
        const files = texts.map((t, i) => {
          const f = join(dir, `chain${i + 1}.csv`);
          writeFileSync(f, t);
          return f;
        });
        if (twice) files.push(files[0]);
        const argv = ['diagnose', ...(json ? ['--json'] : []), ...files];
        const r = await runCli(argv);
        outcomes[`csv ${r.code}`] = (outcomes[`csv ${r.code}`] ?? 0) + 1;
        expectClean(argv, r, []);
        if (json && r.code === 0) expect(r.out.join('\n')).not.toMatch(/NaN|Infinity/);
      }),
      { numRuns: 500, seed: 13, timeout: 20_000 },
    );
  });

  // ---------------------------------------------------------------- flow files

  it('damaged flow files: sample loads them or fails in one line, never writes NaN', async () => {
    const dir = caseDir();
    const good = join(dir, 'good.json');
    const r0 = await runCli(['train', '--target', 'banana', '--steps', '2', '--batch', '8', '--layers', '1', '--seed', '1', '--method', 'reverse-kl', '--out', good]);
    expect(r0.code, r0.err.join('\n')).toBe(0);
    const doc = JSON.parse(readFileSync(good, 'utf8'));
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(-1, 0, 1e8, 1e308, -1e308, 2 ** 53, 0.5, '', 'x', 'AAAA', '////', null, [], {}, [1e8], [-1], ['a'], [0], true),
    );
    type Path = (string | number)[];
    const paths: Path[] = [];
    const walk = (v: unknown, p: Path) => {
      paths.push(p);
      if (Array.isArray(v)) v.slice(0, 4).forEach((x, i) => walk(x, [...p, i]));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'curve') walk(x, [...p, k]);
    };
    walk(doc, []);
    const mutation = fc.tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.oneof(hostile, fc.constant(undefined)), fc.constantFrom('set', 'delete', 'base64'));
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.constantFrom('csv', 'json'), async (muts, fmt) => {
        cases++;
        const d = structuredClone(doc);
        for (const [p, v, how] of muts) {
          let o: Record<string | number, unknown> = d;
          for (const k of p.slice(0, -1)) {
            const next = o?.[k];
            if (!next || typeof next !== 'object') return;
            o = next as Record<string | number, unknown>;
          }
          const last = p[p.length - 1];
          if (how === 'delete') delete o[last];
          else if (how === 'base64' && typeof o[last] === 'string') o[last] = (o[last] as string).slice(0, Math.max(0, (o[last] as string).length - 4)) + 'f/8=';
          else o[last] = v;
        }
        const out = caseDir();
        const { mkdirSync } = await import('node:fs');
        mkdirSync(out, { recursive: true });
        const f = join(out, 'flow.json');
        writeFileSync(f, JSON.stringify(d));
        const argv = ['sample', '--flow', f, '--n', '20', '--out', join(out, `d.${fmt}`)];
        const r = await runCli(argv);
        outcomes[`flow ${r.code}`] = (outcomes[`flow ${r.code}`] ?? 0) + 1;
        expectClean(argv, r, [out]);
      }),
      { numRuns: 400, seed: 14, timeout: 20_000 },
    );
  });
  // ---------------------------------------------------------------- model and data files

  it('model and data files: compare runs a model or fails in one line', async () => {
    const model = join(process.cwd(), 'examples', 'posteriors', 'eight_schools_noncentered', 'model.mjs');
    const data = JSON.parse(readFileSync(join(process.cwd(), 'examples', 'posteriors', 'eight_schools_noncentered', 'data.json'), 'utf8'));
    const hostile = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(-1, 0, 1.5, 1e8, 1e308, -1e308, 2 ** 53, '', 'NaN', 'Infinity', null, [], {}, [1e308], [-1], ['a'], [null], true),
    );
    const mutation = fc.tuple(fc.constantFrom('J', 'y', 'sigma', 'extra'), fc.oneof(hostile, fc.constant(undefined)), fc.constantFrom('set', 'delete', 'element'));
    // Model files that are not models (written where a user might put them, without imports).
    const badModels = ['export default 42;', 'export const x = 1;', 'export default {', 'throw new Error("boom");', 'export default { name: "m", data: {}, parameters: () => ({}), logDensity() { return NaN; } };', ''];
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 9 }), async (muts, modelDie) => {
        cases++;
        const d: Record<string, unknown> = structuredClone(data);
        for (const [k, v, how] of muts) {
          if (how === 'delete') delete d[k];
          else if (how === 'element' && Array.isArray(d[k])) (d[k] as unknown[])[Math.abs(JSON.stringify(v ?? 0).length) % 10] = v;
          else d[k] = v;
        }
        const dir = caseDir();
        const { mkdirSync } = await import('node:fs');
        mkdirSync(dir, { recursive: true });
        const dataFile = join(dir, 'data.json');
        writeFileSync(dataFile, modelDie === 1 ? '{"J": 8, "y": [1, 2' : JSON.stringify(d));
        let modelFile = model;
        if (modelDie === 0) {
          modelFile = join(dir, 'model.mjs');
          writeFileSync(modelFile, badModels[caseNo % badModels.length]);
        }
        const out = join(dir, 'out');
        const argv = ['compare', '--model', modelFile, '--data', dataFile, '--samplers', 'nuts', '--draws', '20', '--chains', '1', '--warmup', '20', '--no-png', '--no-coverage', '--out', out];
        const r = await runCli(argv);
        outcomes[`model ${r.code}`] = (outcomes[`model ${r.code}`] ?? 0) + 1;
        expectClean(argv, r, [out]);
      }),
      { numRuns: 100, seed: 15, timeout: 20_000 },
    );
  });
});
