/**
 * STUDY.json / STUDY.yaml: a sampler comparison study as data. Targets × samplers × seeds, each
 * combination a cell; budgets and flow training shared, with per-target and per-sampler
 * overrides. Every mistake is a ParseError naming the file and the place (`targets[2]: unknown
 * key 'spce'`), never a crash later on.
 *
 *   name: banana-study
 *   targets:
 *     - banana                                # a built-in spec
 *     - { spec: "funnel:dim=10", train: { steps: 2000 } }
 *     - { expr: "-0.5*(x1^2 + x2^2)", name: gauss2 }
 *   samplers:
 *     - nuts
 *     - { name: hmc, options: { numSteps: 32 } }
 *     - { name: rwm, label: rwm-long, draws: 5000 }
 *   seeds: [1, 2, 3]                          # or a count: seeds: 10 (1..10)
 *   budget: { chains: 4, draws: 1000, warmup: 1000 }
 *   train: { steps: 3000, maxSeconds: 60 }    # the flow of iaf/imh, trained once per target × seed
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ParseError } from '../core/errors.js';
import { samplerRegistry, type OptionKinds } from '../cli/samplerRegistry.js';
import type { TrainOptions } from '../cli/flowTraining.js';
import type { TargetSource } from './targetSource.js';
import type { Budget } from './tasks.js';

export interface StudyTarget {
  label: string;
  source: TargetSource;
  /** Training settings for this target over the study's. */
  train: TrainOptions;
}

export interface StudySampler {
  label: string;
  name: string;
  options: Record<string, number | boolean>;
  /** Budget overrides for this sampler. */
  budget: Partial<Omit<Budget, 'seed'>>;
}

export interface StudySpec {
  name: string;
  targets: StudyTarget[];
  samplers: StudySampler[];
  seeds: (number | string)[];
  budget: Omit<Budget, 'seed'>;
  train: TrainOptions;
  /** Folder of the study file: relative paths in targets are taken from it. */
  baseDir: string;
}

const TRAIN_KEYS: OptionKinds = { steps: 'integer', batchSize: 'integer', layers: 'integer', learningRate: 'number', maxSeconds: 'number', annealFrom: 'number' };
const BUDGET_KEYS: OptionKinds = { chains: 'integer', draws: 'integer', warmup: 'integer' };

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly file: string) {}

  fail(where: string, msg: string): never {
    throw new ParseError(`${where ? where + ': ' : ''}${msg}`, undefined, this.file);
  }

  object(v: unknown, where: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(where, `expected a mapping of keys to values, got ${describe(v)}`);
    return v as Obj;
  }

  keys(o: Obj, where: string, allowed: string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(where, `unknown key '${k}' (keys: ${allowed.join(', ')})`);
  }

  string(v: unknown, where: string): string {
    if (typeof v !== 'string' || v.trim() === '') this.fail(where, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  /** Values of `o` typed by `kinds`; integers >= minInt (0 for warm-up, 1 otherwise). */
  typed(o: unknown, where: string, kinds: OptionKinds): Record<string, number | boolean> {
    if (o === undefined) return {};
    const obj = this.object(o, where);
    this.keys(obj, where, Object.keys(kinds));
    const out: Record<string, number | boolean> = {};
    for (const [k, v] of Object.entries(obj)) {
      const kind = kinds[k];
      if (kind === 'boolean') {
        if (typeof v !== 'boolean') this.fail(`${where}.${k}`, `expected true or false, got ${describe(v)}`);
      } else if (typeof v !== 'number' || !Number.isFinite(v) || (kind === 'integer' && !Number.isInteger(v))) {
        this.fail(`${where}.${k}`, `expected ${kind === 'integer' ? 'an integer' : 'a number'}, got ${describe(v)}`);
      }
      out[k] = v as number | boolean;
    }
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function checkBudget(c: Checker, b: Record<string, number | boolean>, where: string): void {
  for (const [k, v] of Object.entries(b)) {
    const min = k === 'warmup' ? 0 : k === 'draws' ? 4 : 1;
    if ((v as number) < min) c.fail(`${where}.${k}`, `must be >= ${min}, got ${v}`);
  }
}

function checkTrain(c: Checker, t: Record<string, number | boolean>, where: string): void {
  for (const [k, v] of Object.entries(t)) {
    const n = v as number;
    const ok = k === 'annealFrom' ? n > 0 && n <= 1 : k === 'batchSize' ? n >= 2 : n > 0;
    if (!ok) c.fail(`${where}.${k}`, k === 'annealFrom' ? `must be in (0, 1], got ${n}` : `must be positive, got ${n}`);
  }
}

function parseTarget(c: Checker, v: unknown, i: number): StudyTarget {
  const where = `targets[${i}]`;
  if (typeof v === 'string') {
    c.string(v, where);
    return { label: v.trim(), source: { kind: 'spec', spec: v.trim() }, train: {} };
  }
  const o = c.object(v, where);
  c.keys(o, where, ['spec', 'expr', 'model', 'data', 'name', 'train']);
  const kinds = ['spec', 'expr', 'model'].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) c.fail(where, `give exactly one of spec, expr or model (got ${kinds.length ? kinds.join(' and ') : 'none'})`);
  const name = o.name === undefined ? undefined : c.string(o.name, `${where}.name`).trim();
  const train = c.typed(o.train, `${where}.train`, TRAIN_KEYS) as TrainOptions;
  checkTrain(c, train as Record<string, number>, `${where}.train`);
  if (o.data !== undefined && kinds[0] !== 'model') c.fail(`${where}.data`, 'data goes with a model');
  if (kinds[0] === 'spec') {
    const spec = c.string(o.spec, `${where}.spec`).trim();
    return { label: name ?? spec, source: { kind: 'spec', spec }, train };
  }
  if (kinds[0] === 'expr') {
    const expr = c.string(o.expr, `${where}.expr`);
    const label = name ?? `expr${i + 1}`;
    return { label, source: { kind: 'expr', expr, name: label }, train };
  }
  const model = c.string(o.model, `${where}.model`);
  const data = o.data === undefined ? undefined : c.string(o.data, `${where}.data`);
  const label = name ?? model.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
  return { label, source: { kind: 'model', model, ...(data !== undefined ? { data } : {}) }, train };
}

function parseSampler(c: Checker, v: unknown, i: number): StudySampler {
  const where = `samplers[${i}]`;
  const known = samplerRegistry.map((s) => s.name);
  const o: Obj = typeof v === 'string' ? { name: v } : c.object(v, where);
  c.keys(o, where, ['name', 'label', 'options', 'chains', 'draws', 'warmup']);
  const name = c.string(o.name, `${where}.name`).trim().toLowerCase();
  const entry = samplerRegistry.find((s) => s.name === name);
  if (!entry) c.fail(`${where}.name`, `unknown sampler '${name}' (known: ${known.join(', ')})`);
  const label = o.label === undefined ? name : c.string(o.label, `${where}.label`).trim();
  const kinds = entry.options ?? {};
  if (o.options !== undefined && Object.keys(kinds).length === 0) c.fail(`${where}.options`, `sampler ${name} takes no options`);
  const options = c.typed(o.options, `${where}.options`, kinds);
  const given = Object.fromEntries(Object.entries({ chains: o.chains, draws: o.draws, warmup: o.warmup }).filter(([, v]) => v !== undefined));
  const budget = c.typed(given, where, BUDGET_KEYS);
  checkBudget(c, budget, where);
  return { label, name, options, budget: budget as StudySampler['budget'] };
}

function parseSeeds(c: Checker, v: unknown): (number | string)[] {
  if (v === undefined) return [1];
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 100_000) c.fail('seeds', `a count of seeds must be an integer in 1..100000, got ${v}`);
    return Array.from({ length: v }, (_, i) => i + 1);
  }
  if (!Array.isArray(v) || v.length === 0) c.fail('seeds', `expected a list of seeds or a count, got ${describe(v)}`);
  const seen = new Set<string>();
  return v.map((s, i) => {
    if (!(typeof s === 'number' && Number.isInteger(s)) && !(typeof s === 'string' && s.trim() !== '')) c.fail(`seeds[${i}]`, `expected an integer or a string, got ${describe(s)}`);
    if (seen.has(String(s))) c.fail(`seeds[${i}]`, `seed ${s} is listed twice`);
    seen.add(String(s));
    return s as number | string;
  });
}

function unique(c: Checker, labels: string[], what: string): void {
  const seen = new Set<string>();
  labels.forEach((l, i) => {
    if (seen.has(l)) c.fail(`${what}[${i}]`, `the ${what.slice(0, -1)} '${l}' appears twice; give one of them its own ${what === 'samplers' ? 'label' : 'name'}`);
    seen.add(l);
  });
}

/** Parses a study from its text (JSON or YAML; JSON is YAML). `file` names it in errors. */
export function parseStudy(text: string, file: string): StudySpec {
  const c = new Checker(file);
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: false });
  } catch (e) {
    c.fail('', `not valid YAML or JSON: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const o = c.object(raw, '');
  c.keys(o, '', ['name', 'targets', 'samplers', 'seeds', 'budget', 'train']);
  const name = o.name === undefined ? file.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '') : c.string(o.name, 'name').trim();
  if (!Array.isArray(o.targets) || o.targets.length === 0) c.fail('targets', 'expected a non-empty list of targets');
  if (!Array.isArray(o.samplers) || o.samplers.length === 0) c.fail('samplers', 'expected a non-empty list of samplers');
  const targets = (o.targets as unknown[]).map((t, i) => parseTarget(c, t, i));
  const samplers = (o.samplers as unknown[]).map((s, i) => parseSampler(c, s, i));
  unique(c, targets.map((t) => t.label), 'targets');
  unique(c, samplers.map((s) => s.label), 'samplers');
  const budgetIn = c.typed(o.budget, 'budget', BUDGET_KEYS);
  checkBudget(c, budgetIn, 'budget');
  const train = c.typed(o.train, 'train', TRAIN_KEYS) as TrainOptions;
  checkTrain(c, train as Record<string, number>, 'train');
  return {
    name,
    targets,
    samplers,
    seeds: parseSeeds(c, o.seeds),
    budget: { chains: (budgetIn.chains as number) ?? 4, draws: (budgetIn.draws as number) ?? 1000, ...(budgetIn.warmup !== undefined ? { warmup: budgetIn.warmup as number } : {}) },
    train,
    baseDir: dirname(resolve(file)),
  };
}

export async function readStudyFile(path: string): Promise<StudySpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ParseError(`cannot read the study file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, undefined, path);
  }
  return parseStudy(text, path);
}
