/**
 * Where a target comes from, as plain data. A Target is an object with functions, which cannot
 * be sent to a worker thread or through a job queue; its source can, and every worker builds the
 * same target from it again (same spec or expression, same numbers).
 *
 * Each kind of source has a loader in LOADERS below. Loaders are looked up statically, so a
 * kind added there is known in the main thread, in every pool worker and in every queue worker
 * alike (a loader registered at run time in one thread would be missing in the others).
 *
 * Model files (`--model model.mjs --data data.json`, issue 12) plug in as the 'model' kind:
 * replace the placeholder loader with one that builds the Target, fingerprints the file
 * contents (so an edited model reruns its study cells) and, in `portable`, inlines the contents
 * so that a queue worker on another machine needs no copy of the files.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ParameterError } from '../core/errors.js';
import type { Target } from '../targets/target.js';
import { parseTargetSpec } from '../targets/registry.js';

export type TargetSource =
  | { kind: 'spec'; spec: string }
  | { kind: 'expr'; expr: string; name?: string }
  /** Issue 12: a model module and its data. `inline` holds the file contents once made portable. */
  | { kind: 'model'; model: string; data?: string; inline?: { model: string; data?: string } }
  /** A JavaScript module exporting a function that returns a Target (e.g. a custom target). */
  | { kind: 'module'; module: string; export?: string; args?: unknown[] };

export interface LoadContext {
  /** Folder that relative paths in the source are taken from (the study file's folder). */
  baseDir: string;
}

export interface TargetLoader<S extends TargetSource = TargetSource> {
  /** Builds the target. Bad input is a FlowsamplerError (one line for the user). */
  load(source: S, ctx: LoadContext): Promise<Target>;
  /** Text that changes whenever the built target would change (part of a study cell's hash). */
  fingerprint(source: S, ctx: LoadContext): Promise<string>;
  /** The same source needing nothing from this machine (e.g. files inlined), for queue workers. */
  portable(source: S, ctx: LoadContext): Promise<S>;
  /** A short human name, e.g. 'banana' or 'funnel:dim=10'. */
  label(source: S): string;
}

const specLoader: TargetLoader<Extract<TargetSource, { kind: 'spec' }>> = {
  load: async (s) => parseTargetSpec(s.spec),
  fingerprint: async (s) => `spec:${s.spec.trim()}`,
  portable: async (s) => s,
  label: (s) => s.spec.trim(),
};

const exprLoader: TargetLoader<Extract<TargetSource, { kind: 'expr' }>> = {
  // Loaded on first use: mathjs is most of a worker thread's start-up time.
  load: async (s) => (await import('../targets/expression.js')).expressionTarget(s.expr, s.name ? { name: s.name } : {}),
  fingerprint: async (s) => `expr:${s.expr.trim()}`,
  portable: async (s) => s,
  label: (s) => s.name ?? 'expression',
};

/** Written-once model files (src/models/): the module and its Stan JSON data, by path. */
const modelLoader: TargetLoader<Extract<TargetSource, { kind: 'model' }>> = {
  load: async (s, ctx) => (await import('../models/load.js')).loadModelTarget(resolvePath(s.model, ctx), s.data === undefined ? undefined : resolvePath(s.data, ctx)),
  fingerprint: async (s, ctx) => {
    const hash = createHash('sha256');
    for (const f of [s.model, s.data]) {
      if (f === undefined) continue;
      hash.update(await readFile(resolvePath(f, ctx)).catch(() => Buffer.from(`missing:${f}`)));
    }
    return `model:${s.model}:${s.data ?? ''}:${hash.digest('hex')}`;
  },
  portable: async (s) => s,
  label: (s) => s.model.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, ''),
};

/** A module's exported target factory, called with `args` (JSON values). */
const moduleLoader: TargetLoader<Extract<TargetSource, { kind: 'module' }>> = {
  load: async (s, ctx) => {
    const name = s.export ?? 'default';
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolvePath(s.module, ctx)).href)) as Record<string, unknown>;
    } catch (e) {
      throw new ParameterError(`target module ${s.module}: cannot load it (${(e as Error).message})`);
    }
    const f = mod[name];
    if (typeof f !== 'function') throw new ParameterError(`target module ${s.module}: no exported function '${name}'`);
    const t = (await (f as (...a: unknown[]) => unknown)(...(s.args ?? []))) as Target;
    if (!t || typeof t.logDensity !== 'function' || !Number.isInteger(t.dim)) throw new ParameterError(`target module ${s.module}: '${name}' did not return a target`);
    return t;
  },
  fingerprint: async (s, ctx) => {
    const hash = createHash('sha256');
    hash.update(await readFile(resolvePath(s.module, ctx)).catch(() => Buffer.from(`missing:${s.module}`)));
    return `module:${s.module}:${s.export ?? 'default'}:${JSON.stringify(s.args ?? [])}:${hash.digest('hex')}`;
  },
  portable: async (s) => s,
  label: (s) => `${s.module.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '')}${s.export ? `.${s.export}` : ''}`,
};

const LOADERS: { [K in TargetSource['kind']]: TargetLoader<Extract<TargetSource, { kind: K }>> } = {
  spec: specLoader,
  expr: exprLoader,
  model: modelLoader,
  module: moduleLoader,
};

function loaderFor<S extends TargetSource>(source: S): TargetLoader<S> {
  const l = (LOADERS as Record<string, TargetLoader<TargetSource>>)[source?.kind];
  if (!l) throw new ParameterError(`unknown target source kind '${String(source?.kind)}' (known: ${Object.keys(LOADERS).join(', ')})`);
  return l as unknown as TargetLoader<S>;
}

export function resolvePath(path: string, ctx: LoadContext): string {
  return isAbsolute(path) ? path : resolve(ctx.baseDir, path);
}

export const loadTarget = (source: TargetSource, ctx: LoadContext): Promise<Target> => loaderFor(source).load(source, ctx);
export const targetFingerprint = (source: TargetSource, ctx: LoadContext): Promise<string> => loaderFor(source).fingerprint(source, ctx);
export const portableSource = (source: TargetSource, ctx: LoadContext): Promise<TargetSource> => loaderFor(source).portable(source, ctx);
export const sourceLabel = (source: TargetSource): string => loaderFor(source).label(source);
