/**
 * Starting a flow where the target is. A fresh flow sits near N(0, I); Adam moves each parameter
 * by about one learning rate per step, so a posterior centred at 10 with scales of 1e-3 and 50
 * would cost thousands of steps of pure translation and rescaling before any shape is learnt.
 * The pilot is the target's Laplace approximation (src/targets/laplace.ts), put into the flow's
 * output layers: the last diagonal affine layer gets the mode and the marginal sds, or, when an
 * LU linear layer sits right before it, the LU layer gets the Cholesky factor (full covariance).
 *
 * The Laplace approximation can be far off (a funnel's neck, a banana's arms), so the pilot is a
 * choice, not an assumption: the untouched flow and each pilot candidate (diagonal or full,
 * at 1x and 1.5x the width: gated IAF layers shrink volume) are scored by the training objective
 * itself, the ELBO on a few hundred draws, and the best is kept.
 */
import type { Target } from '../targets/target.js';
import { laplace, type LaplaceResult } from '../targets/laplace.js';
import type { Flow } from './flow.js';
import type { Param } from './params.js';
import { AffineDiagonal } from './bijectors/affineDiagonal.js';
import { LuLinear } from './bijectors/luLinear.js';
import { RandomStream } from '../core/random.js';

export type PilotKind = 'none' | 'diagonal' | 'diagonal-wide' | 'full' | 'full-wide';

export interface PilotResult {
  /** The start kept. */
  kind: PilotKind;
  /** ELBO estimate of every candidate tried (the chosen one is the highest). */
  candidates: { kind: PilotKind; elbo: number }[];
  laplace: LaplaceResult;
}

export interface PilotOptions {
  seed?: number | string;
  /** Draws per ELBO estimate (default 512). */
  draws?: number;
  /** A Laplace result computed already (else computed here). */
  laplace?: LaplaceResult;
}

function elbo(flow: Flow, target: Target, n: number, rng: RandomStream): number {
  const { x, logq } = flow.sampleArrays(n, rng);
  const D = flow.dim;
  const row = new Float64Array(D);
  let s = 0;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < D; j++) row[j] = x[r * D + j];
    const v = target.logDensity(row) - logq[r];
    if (!Number.isFinite(v)) return -Infinity;
    s += v;
  }
  return s / n;
}

/** Chooses and applies the flow's starting point (see the file header); returns what it did. */
export function pilotFlow(flow: Flow, target: Target, options: PilotOptions = {}): PilotResult {
  const la = options.laplace ?? laplace(target);
  const n = options.draws ?? 512;
  const seed = new RandomStream(options.seed ?? 0).derive('pilot');
  const bij = flow.bijectors;
  const outIdx = bij.length - 1;
  const out = bij[outIdx] instanceof AffineDiagonal ? (bij[outIdx] as AffineDiagonal) : null;
  const lu = out && outIdx > 0 && bij[outIdx - 1] instanceof LuLinear && (bij[outIdx - 1] as LuLinear).perm.every((p, i) => p === i) ? (bij[outIdx - 1] as LuLinear) : null;
  const original = flow.store.snapshot();
  const set = (p: Param, v: ArrayLike<number>) => flow.store.set(p, v);
  const D = flow.dim;
  const candidates: { kind: PilotKind; elbo: number; state: Float32Array[] }[] = [];
  // The same draws for every candidate (common random numbers): the comparison is sharper.
  const score = () => elbo(flow, target, n, new RandomStream(seed.seed));
  candidates.push({ kind: 'none', elbo: score(), state: original });
  if (la.ok && out) {
    const sd = Array.from({ length: D }, (_, i) => Math.sqrt(la.cov![i * D + i]));
    const clip = Math.exp(0.99 * out.maxLogScale);
    const tries: [PilotKind, number, boolean][] = [
      ['diagonal', 1, false],
      ['diagonal-wide', 1.5, false],
      ...(lu ? ([['full', 1, true], ['full-wide', 1.5, true]] as [PilotKind, number, boolean][]) : []),
    ];
    for (const [kind, widen, full] of tries) {
      flow.store.restore(original);
      try {
        if (full) {
          // y = z A + b with A = widen · L_cholᵀ (upper), then the affine output is the identity.
          const A = new Float64Array(D * D);
          for (let i = 0; i < D; i++) for (let j = i; j < D; j++) A[i * D + j] = widen * la.cholesky![j * D + i];
          lu!.setUpper(A, la.mode, set);
          out.setLocScale(new Array(D).fill(0), new Array(D).fill(1), set);
        } else {
          out.setLocScale(la.mode, sd.map((s) => Math.min(clip, Math.max(1 / clip, widen * s))), set);
        }
      } catch {
        continue;
      }
      candidates.push({ kind, elbo: score(), state: flow.store.snapshot() });
    }
  }
  let best = candidates[0];
  for (const c of candidates) if (c.elbo > best.elbo) best = c;
  flow.store.restore(best.state);
  return { kind: best.kind, candidates: candidates.map(({ kind, elbo }) => ({ kind, elbo })), laplace: la };
}
