/**
 * Built-in targets by name, for the CLI: `listTargets()` for `flowsampler targets`, and
 * `parseTargetSpec('banana:dim=4,b=0.05')` → Target. Unknown names, unknown parameters and bad
 * values are ParameterErrors that list what is valid.
 */
import { ParameterError } from '../core/errors.js';
import { banana } from './banana.js';
import { energy } from './energy.js';
import { funnel } from './funnel.js';
import { gaussian, illConditionedGaussian } from './gaussian.js';
import { midgley40, mixture1d, ring } from './mixture.js';
import { manyWell } from './manyWell.js';
import type { Target, TargetParamInfo } from './target.js';

interface Entry {
  name: string;
  aliases?: string[];
  description: string;
  params: TargetParamInfo[];
  make: (p: Record<string, number>) => Target;
}

const ENTRIES: Entry[] = [
  {
    name: 'banana',
    description: 'twisted Gaussian of Haario et al. (1999); defaults are the anchors banana2d (log Z = log 20π)',
    params: [
      { name: 'dim', description: 'dimension (>= 2; extra coordinates are N(0,1))', default: 2 },
      { name: 'b', description: 'twist', default: 0.1 },
      { name: 'sigma1', description: 'standard deviation of x1', default: 10 },
    ],
    make: (p) => banana({ dim: p.dim, b: p.b, sigma1: p.sigma1 }),
  },
  {
    name: 'funnel',
    description: "Neal's funnel; defaults are the anchors funnel10 (log Z = log 3 + 5 log 2π)",
    params: [
      { name: 'dim', description: 'dimension including v (>= 2)', default: 10 },
      { name: 'sigma', description: 'standard deviation of v', default: 3 },
    ],
    make: (p) => funnel({ dim: p.dim, sigma: p.sigma }),
  },
  {
    name: 'ring',
    aliases: ['gmm2d'],
    description: 'equal Gaussian modes on a circle; defaults are the anchors gmm2d (8 modes, radius 4, sd 0.3)',
    params: [
      { name: 'modes', description: 'number of modes', default: 8 },
      { name: 'radius', description: 'circle radius', default: 4 },
      { name: 'sd', description: 'standard deviation of each mode', default: 0.3 },
    ],
    make: (p) => ring({ modes: p.modes, radius: p.radius, sd: p.sd }),
  },
  {
    name: 'gmm40',
    aliases: ['midgley40'],
    description: '40-mode 2-D Gaussian mixture of Midgley et al. (2023), normalised (log Z = 0)',
    params: [],
    make: () => midgley40(),
  },
  {
    name: 'mix1d',
    aliases: ['mixture1d'],
    description: 'equal-weight 1-D Gaussian modes centred on 0; defaults N(±2, 0.5²), normalised (log Z = 0)',
    params: [
      { name: 'modes', description: 'number of modes', default: 2 },
      { name: 'spacing', description: 'distance between neighbouring modes', default: 4 },
      { name: 'sd', description: 'standard deviation of each mode', default: 0.5 },
    ],
    make: (p) => mixture1d({ modes: p.modes, spacing: p.spacing, sd: p.sd }),
  },
  {
    name: 'manywell',
    aliases: ['many-well'],
    description: 'many-well of Midgley et al. (2023): dim/2 double wells, 2^(dim/2) modes; exact log Z by quadrature',
    params: [{ name: 'dim', description: 'dimension (even)', default: 32 }],
    make: (p) => manyWell({ dim: p.dim }),
  },
  {
    name: 'gaussian',
    description: 'isotropic Gaussian N(0, scale² I)',
    params: [
      { name: 'dim', description: 'dimension', default: 2 },
      { name: 'scale', description: 'standard deviation', default: 1 },
    ],
    make: (p) => gaussian({ dim: p.dim, scale: p.scale }),
  },
  {
    name: 'illgauss',
    description: 'rotated Gaussian with log-spaced variances, given condition number and log det Σ = 0',
    params: [
      { name: 'dim', description: 'dimension', default: 50 },
      { name: 'condition', description: 'condition number of Σ', default: 100 },
      { name: 'seed', description: 'seed of the random rotation', default: 0 },
    ],
    make: (p) => illConditionedGaussian({ dim: p.dim, condition: p.condition, seed: p.seed }),
  },
  ...(['u1', 'u2', 'u3', 'u4'] as const).map(
    (u): Entry => ({
      name: u,
      description: `Rezende & Mohamed (2015) energy ${u.toUpperCase()} in 2-D${u === 'u1' ? '' : ' (with a wall beyond |z1| = 4 to make it proper)'}`,
      params: [],
      make: () => energy(u),
    }),
  ),
];

/** The built-in targets with their parameters and defaults. */
export function listTargets(): { name: string; description: string; params: TargetParamInfo[] }[] {
  return ENTRIES.map((e) => ({ name: e.name, description: e.description, params: e.params.map((p) => ({ ...p })) }));
}

/** `name` or `name:key=value,key=value` → a built-in Target. */
export function parseTargetSpec(spec: string): Target {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ParameterError(`empty target spec (targets: ${ENTRIES.map((e) => e.name).join(', ')})`);
  }
  const colon = spec.indexOf(':');
  const rawName = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase();
  const entry = ENTRIES.find((e) => e.name === rawName || e.aliases?.includes(rawName));
  if (!entry) {
    throw new ParameterError(`unknown target '${rawName}' (targets: ${ENTRIES.map((e) => e.name).join(', ')})`);
  }
  const values: Record<string, number> = {};
  for (const p of entry.params) values[p.name] = p.default as number;
  const rest = colon < 0 ? '' : spec.slice(colon + 1).trim();
  const valid = entry.params.length ? entry.params.map((p) => p.name).join(', ') : 'none';
  const seen = new Set<string>();
  for (const part of rest === '' ? [] : rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ParameterError(`target ${entry.name}: expected key=value, got '${part.trim()}' (parameters: ${valid})`);
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    const info = entry.params.find((p) => p.name === key);
    if (!info) throw new ParameterError(`target ${entry.name}: unknown parameter '${key}' (parameters: ${valid})`);
    if (seen.has(key)) throw new ParameterError(`target ${entry.name}: parameter '${key}' given twice`);
    seen.add(key);
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) {
      throw new ParameterError(`target ${entry.name}: invalid parameter ${key} = '${raw}': must be a number (${info.description})`);
    }
    values[key] = v;
  }
  try {
    return entry.make(values);
  } catch (e) {
    if (e instanceof ParameterError) throw new ParameterError(`target ${entry.name}: ${e.message}`);
    throw e;
  }
}
