/**
 * Bijector types by name, for save/load and for `createFlow({ layers: [{ type, ... }] })`. Every
 * built-in layer is listed here (no registration as an import side effect, so every saved flow
 * loads whatever was imported); `registerBijector` adds a user's own.
 */
import type { Bijector } from './bijectors/bijector.js';
import { AffineDiagonal, ActNorm } from './bijectors/affineDiagonal.js';
import { Autoregressive, iafAffineFromLegacy } from './bijectors/autoregressive.js';
import { Coupling } from './bijectors/coupling.js';
import { Elementwise } from './bijectors/elementwise.js';
import { LuLinear } from './bijectors/luLinear.js';
import { Permute } from './bijectors/permute.js';
import { AdditiveCoupling } from './bijectors/additiveCoupling.js';
import { IResNetBlock } from './bijectors/iresnet.js';
import { MultiScale } from './bijectors/multiScale.js';
import { ParameterError } from '../core/errors.js';

export type BijectorFactory = (config: Record<string, unknown>) => Bijector;

const registry = new Map<string, BijectorFactory>([
  ['affine-diagonal', (c) => new AffineDiagonal(c as never)],
  ['actnorm', (c) => new ActNorm(c as never)],
  ['permute', (c) => new Permute(c as never)],
  ['lu-linear', (c) => new LuLinear(c as never)],
  ['autoregressive', (c) => new Autoregressive(c as never)],
  ['coupling', (c) => new Coupling(c as never)],
  ['elementwise', (c) => new Elementwise(c as never)],
  ['additive-coupling', (c) => new AdditiveCoupling(c as never)],
  ['iresnet', (c) => new IResNetBlock(c as never)],
  ['multi-scale', (c) => new MultiScale(c as never)],
  // Flows saved before the engine redesign.
  ['iaf-affine', (c) => iafAffineFromLegacy(c as never)],
  [
    'iaf-rq-spline',
    (c) => {
      const k = c as { dim: number; hidden: number[]; bins?: number; bound?: number; order?: number[]; seed?: number | string };
      return new Autoregressive({ dim: k.dim, hidden: k.hidden, order: k.order, seed: k.seed, direction: 'iaf', transformer: { kind: 'rq-spline', bins: k.bins, bound: k.bound } });
    },
  ],
]);

/** Makes a bijector type loadable and usable in `createFlow`. */
export function registerBijector(type: string, factory: BijectorFactory): void {
  if (typeof type !== 'string' || type === '' || typeof factory !== 'function') throw new ParameterError('registerBijector(type, factory): a name and a function are required');
  registry.set(type, factory);
}

export function bijectorFactory(type: string): BijectorFactory | undefined {
  return registry.get(type);
}

export function bijectorTypes(): string[] {
  return [...registry.keys()];
}
