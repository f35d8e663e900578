/**
 * Transformers: the elementwise monotone maps y_i = τ(x_i; θ_i) that coupling, autoregressive and
 * elementwise layers apply (UDL §16.3.2–16.3.5; Papamakarios et al. 2021, "Normalizing flows for
 * probabilistic modeling and inference", §3.1). Each one names its kernel
 * (src/flows/kernels/), how many parameters it takes per coordinate, and the parameter values
 * (conditioner output biases) at which it is the identity or close to it.
 *
 * - `affine`: y = x·exp(softclip(α)) + μ (RealNVP, MAF);
 * - `gated-affine`: y = σ(s)(x − m) + m (IAF, Kingma et al. 2016); never the exact identity
 *   (σ < 1): it starts at σ(sBias);
 * - `rq-spline`: monotone rational-quadratic spline on [−B, B], identity outside (Durkan et al.
 *   2019);
 * - `pw-linear`: monotone piecewise-linear on [−B, B] with K equal-width bins, identity outside
 *   (Müller et al. 2019).
 */
import type { Kernel, Ops } from '../engine/ops.js';
import { affineKernel } from '../kernels/affine.js';
import { gatedAffineKernel } from '../kernels/gatedAffine.js';
import { rqSplineKernel, identityDerivativeParam, type RqSplineAttrs } from '../kernels/rqSpline.js';
import { pwLinearKernel, type PwLinearAttrs } from '../kernels/pwLinear.js';
import { ParameterError, checkParam } from '../../core/errors.js';

export type TransformerConfig =
  | { kind: 'affine'; clip?: number }
  | { kind: 'gated-affine'; sBias?: number }
  | { kind: 'rq-spline'; bins?: number; bound?: number }
  | { kind: 'pw-linear'; bins?: number; bound?: number };

export interface Transformer {
  readonly kind: TransformerConfig['kind'];
  /** Parameters per coordinate (θ has this many blocks of `dim` columns). */
  readonly perDim: number;
  /** The initial value of parameter block `block` (near the identity). */
  initialValue(block: number): number;
  apply<V>(ops: Ops<V>, x: V, theta: V, inverse: boolean): { y: V; logDet: V };
  config(): TransformerConfig;
}

function kernelTransformer<A>(kind: TransformerConfig['kind'], perDim: number, kernel: Kernel<A & { inverse: boolean }>, attrs: A, init: (block: number) => number, config: TransformerConfig): Transformer {
  return {
    kind,
    perDim,
    initialValue: init,
    apply<V>(ops: Ops<V>, x: V, theta: V, inverse: boolean) {
      const [y, logDet] = ops.apply(kernel, [x, theta], { ...attrs, inverse });
      return { y, logDet };
    },
    config: () => config,
  };
}

/** The transformer a config describes (defaults filled in, so `config()` round-trips). */
export function createTransformer(config: TransformerConfig): Transformer {
  if (config == null || typeof config !== 'object') throw new ParameterError('transformer: a config { kind, ... } is required');
  switch (config.kind) {
    case 'affine': {
      const clip = checkParam('affine clip', config.clip ?? 5, (v) => v > 0, 'positive');
      return kernelTransformer('affine', 2, affineKernel, { clip }, () => 0, { kind: 'affine', clip });
    }
    case 'gated-affine': {
      const sBias = checkParam('gated-affine sBias', config.sBias ?? 2, () => true, 'a number');
      return kernelTransformer('gated-affine', 2, gatedAffineKernel, {}, (b) => (b === 1 ? sBias : 0), { kind: 'gated-affine', sBias });
    }
    case 'rq-spline': {
      const bins = checkParam('rq-spline bins', config.bins ?? 8, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
      const bound = checkParam('rq-spline bound', config.bound ?? 4, (v) => v > 0, 'positive');
      const attrs: Omit<RqSplineAttrs, 'inverse'> = { bins, bound, minBinWidth: 1e-3, minBinHeight: 1e-3, minDerivative: 1e-3 };
      const dParam = identityDerivativeParam(attrs.minDerivative);
      return kernelTransformer('rq-spline', 3 * bins - 1, rqSplineKernel, attrs, (b) => (b >= 2 * bins ? dParam : 0), { kind: 'rq-spline', bins, bound });
    }
    case 'pw-linear': {
      const bins = checkParam('pw-linear bins', config.bins ?? 8, (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
      const bound = checkParam('pw-linear bound', config.bound ?? 4, (v) => v > 0, 'positive');
      const attrs: Omit<PwLinearAttrs, 'inverse'> = { bins, bound, minBinHeight: 1e-3 };
      return kernelTransformer('pw-linear', bins, pwLinearKernel, attrs, () => 0, { kind: 'pw-linear', bins, bound });
    }
    default:
      throw new ParameterError(`unknown transformer '${String((config as { kind?: unknown }).kind)}': use affine, gated-affine, rq-spline or pw-linear`);
  }
}
