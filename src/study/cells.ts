/**
 * A study's cells and jobs. A cell is one target × sampler × seed with everything that decides
 * its numbers (target fingerprint, sampler options, budget, flow training); its hash is the
 * SHA-256 of that definition, so an edited cell has a new hash and is rerun, and an unchanged
 * one never is. A job is what one worker runs at once: one cell, or the flow-sampler cells of a
 * target × seed, which share one trained flow (trained once, in one worker; each cell is still
 * charged the full training).
 */
import { createHash } from 'node:crypto';
import { safeId } from '../report/figure.js';
import type { TrainOptions } from '../cli/flowTraining.js';
import { samplerRegistry } from '../cli/samplerRegistry.js';
import type { StudySpec } from './studySpec.js';
import { targetFingerprint, portableSource, type TargetSource } from './targetSource.js';
import type { Budget } from './tasks.js';

/** Bumped when the meaning of a cell's numbers changes, so old results are recomputed. */
export const CELL_FORMAT = 1;

export interface CellDef {
  /** Readable and file-name safe: target__sampler__seed. */
  id: string;
  hash: string;
  target: { label: string; source: TargetSource };
  sampler: { label: string; name: string; options: Record<string, number | boolean> };
  seed: number | string;
  budget: Budget;
  /** Flow training settings, for flow samplers only. */
  train?: TrainOptions;
}

export interface JobDef {
  /** Hash of its cells' hashes: the job id in the queue. */
  id: string;
  cells: CellDef[];
  /** True when the cells share a trained flow. */
  flow: boolean;
}

export function isFlowSamplerName(name: string): boolean {
  const kind = samplerRegistry.find((s) => s.name === name)?.kind;
  return kind === 'importance' || kind === 'flow-mcmc';
}

/** JSON with sorted keys, so equal definitions hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Every cell of the study, in target, sampler, seed order, with portable target sources (what
 * a queue worker on another machine needs).
 */
export async function studyCells(spec: StudySpec): Promise<CellDef[]> {
  const ctx = { baseDir: spec.baseDir };
  const cells: CellDef[] = [];
  const ids = new Set<string>();
  for (const t of spec.targets) {
    const fingerprint = await targetFingerprint(t.source, ctx);
    const source = await portableSource(t.source, ctx);
    for (const s of spec.samplers) {
      const flow = isFlowSamplerName(s.name);
      const train = flow ? { ...spec.train, ...t.train } : undefined;
      for (const seed of spec.seeds) {
        const budget: Budget = { seed, ...spec.budget, ...s.budget };
        const definition = { format: CELL_FORMAT, target: fingerprint, sampler: s.name, options: s.options, budget, train };
        let id = `${safeId(t.label)}__${safeId(s.label)}__${safeId(String(seed))}`;
        const hash = sha256(canonicalJson(definition));
        if (ids.has(id)) id = `${id}_${hash.slice(0, 8)}`; // labels that differ only in unsafe characters
        ids.add(id);
        cells.push({ id, hash, target: { label: t.label, source }, sampler: { label: s.label, name: s.name, options: s.options }, seed, budget, ...(train ? { train } : {}) });
      }
    }
  }
  return cells;
}

/**
 * Groups cells into jobs: each non-flow cell alone; flow cells of the same target, seed and
 * training settings together. Flow jobs come first: they are the longest, and starting them
 * first shortens the whole run.
 */
export function groupJobs(cells: CellDef[]): JobDef[] {
  const flowGroups = new Map<string, CellDef[]>();
  const single: JobDef[] = [];
  for (const c of cells) {
    if (!isFlowSamplerName(c.sampler.name)) {
      single.push({ id: sha256(`job:${c.hash}`), cells: [c], flow: false });
      continue;
    }
    const key = canonicalJson({ target: c.target, seed: c.seed, train: c.train });
    flowGroups.set(key, [...(flowGroups.get(key) ?? []), c]);
  }
  const flows: JobDef[] = [...flowGroups.values()].map((cs) => ({ id: sha256(`job:${cs.map((c) => c.hash).sort().join(',')}`), cells: cs, flow: true }));
  return [...flows, ...single];
}
