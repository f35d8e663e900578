/**
 * Coverage: does an importance proposal q (a trained flow) miss mass that PSIS k-hat and Kish's
 * ESS cannot see? Both are statistics of the weights of draws *from q*; where q puts no mass,
 * there are no draws and so no large weights. Two independent checks see it instead:
 *
 * 1. **Missed mass** — the importance estimate log Ẑ_q against an independent estimate log Ẑ_ref
 *    (tempered SMC, which starts from a wide reference and reaches every mode the reference
 *    covers). Importance sampling estimates ∫_{q > 0} p̃ ≤ Z, so E Ẑ_q ≤ Z: a gap
 *    log Ẑ_ref − log Ẑ_q beyond `zCrit` joint standard errors *and* beyond `minGap` nats means q
 *    misses a share ≈ 1 − e^{−gap} of the mass. The opposite gap (log Ẑ_q clearly above log Ẑ_ref)
 *    cannot come from missed mass in q; it says the reference run missed mass (or q's weights
 *    are heavy-tailed, which k-hat then shows), and is reported, not flagged.
 * 2. **Thin tails** — the marginal standard deviations that importance sampling with q reports
 *    (its draws weighted by p̃/q, PSIS-smoothed) against those of a probe run (a short NUTS run),
 *    with their Monte Carlo standard errors: a q narrower than p whose weights correct it is not
 *    a wrong answer; a weighted sd that stays low is, since no weight reaches where q has no
 *    draws. A coordinate whose sd under q is more than `minSdDrop` below the probe's, by more
 *    than z* joint standard errors, is flagged; z* grows with the dimension (Bonferroni over
 *    coordinates: P(any false flag) ≈ 0.5 % for independent coordinates).
 *
 * What it cannot detect: mass that the reference run missed too (a mode outside SMC's reference,
 * or one it lost through particle degeneracy); missed mass below `minGap` or within the joint
 * standard error; thin tails in directions that are not coordinate axes, or where the probe is
 * itself too narrow (NUTS not entering a funnel's neck, MCMC chains stuck in one mode).
 */
import { ParameterError } from '../core/errors.js';
import { qnorm } from './normal.js';

export interface LogZEstimateInput {
  logZ: number;
  se: number;
}

export interface CoverageInput {
  /** The proposal's importance estimate of log Z with its standard error. */
  proposal: LogZEstimateInput;
  /** An independent estimate (e.g. tempered SMC) with its standard error. */
  reference?: LogZEstimateInput;
  /** Marginal sds of draws from q (weighted, as importance sampling reports them; see marginalSds) and their standard errors. */
  proposalSd?: { sd: ArrayLike<number>; se: ArrayLike<number> };
  /** Marginal sds of a probe run (e.g. NUTS) and their Monte Carlo standard errors. */
  probeSd?: { sd: ArrayLike<number>; se: ArrayLike<number> };
  paramNames?: string[];
  /** Joint standard errors a log Z gap must exceed (default 3). */
  zCrit?: number;
  /** Smallest gap in nats that counts as missed mass (default 0.05, about 5 % of the mass). */
  minGap?: number;
  /** Smallest relative sd deficit that counts as thin (default 0.05). */
  minSdDrop?: number;
}

export interface ThinCoordinate {
  param: string;
  /** sd under q / sd of the probe. */
  ratio: number;
  /** (sd_probe − sd_q) / joint standard error. */
  z: number;
}

export interface CoverageResult {
  /** True when either check found a problem. */
  flagged: boolean;
  /** 'ok', 'missed-mass', 'thin-tails', 'missed-mass+thin-tails', or 'unchecked' (no reference or probe given). */
  status: 'ok' | 'missed-mass' | 'thin-tails' | 'missed-mass+thin-tails' | 'unchecked';
  /** log Ẑ_ref − log Ẑ_q, when a reference was given. */
  logZGap: number | null;
  /** The joint standard error of the gap. */
  gapSe: number | null;
  /** Estimated share of the mass q misses, 1 − e^{−gap} (when flagged for missed mass). */
  missedMass: number | null;
  /** The log Z comparison could not decide: it cannot rule out that half the mass is missing. */
  inconclusive: boolean;
  thin: ThinCoordinate[];
  /** One line per finding, for the CLI and the report. */
  messages: string[];
}

/** z* for `tests` simultaneous one-sided checks at family-wise level `alpha` (at least 3). */
export function bonferroniZ(tests: number, alpha = 0.005): number {
  return Math.max(3, -qnorm(alpha / Math.max(1, tests)));
}

export function coverageCheck(input: CoverageInput): CoverageResult {
  const zCrit = input.zCrit ?? 3;
  const minGap = input.minGap ?? 0.05;
  const minSdDrop = input.minSdDrop ?? 0.05;
  if (!(zCrit > 0) || !(minGap >= 0) || !(minSdDrop >= 0 && minSdDrop < 1)) {
    throw new ParameterError('coverageCheck: zCrit must be positive, minGap non-negative, minSdDrop in [0, 1)');
  }
  const messages: string[] = [];
  let missed = false;
  let logZGap: number | null = null;
  let gapSe: number | null = null;
  let missedMass: number | null = null;
  let inconclusive = false;
  const ref = input.reference;
  const prop = input.proposal;
  if (ref && Number.isFinite(ref.logZ) && Number.isFinite(prop.logZ)) {
    logZGap = ref.logZ - prop.logZ;
    const se = Math.sqrt((Number.isFinite(ref.se) ? ref.se ** 2 : Infinity) + (Number.isFinite(prop.se) ? prop.se ** 2 : 0));
    gapSe = Number.isFinite(se) ? se : null;
    const gapText = `log Ẑ: flow ${prop.logZ.toFixed(3)}, reference ${ref.logZ.toFixed(3)} ± ${Number.isFinite(ref.se) ? ref.se.toFixed(3) : '?'}`;
    if (gapSe === null) {
      inconclusive = true;
      messages.push(`${gapText}: the reference has no standard error, so missed mass cannot be judged`);
    } else if (logZGap > minGap && logZGap > zCrit * gapSe) {
      missed = true;
      missedMass = 1 - Math.exp(-logZGap);
      messages.push(`${gapText}: the flow misses about ${(100 * missedMass).toFixed(0)} % of the mass (gap ${logZGap.toFixed(3)} = ${(logZGap / gapSe).toFixed(1)} SE); k-hat cannot see this`);
    } else if (-logZGap > minGap && -logZGap > zCrit * gapSe) {
      messages.push(`${gapText}: the reference estimate is below the flow's, which missed mass in the flow cannot cause; the reference run likely missed mass`);
    } else {
      // Not detected: say how much missed mass the comparison rules out.
      const bound = 1 - Math.exp(-Math.max(0, logZGap + zCrit * gapSe));
      inconclusive = bound > 0.5;
      messages.push(
        inconclusive
          ? `${gapText}: too uncertain to tell missed mass (joint SE ${gapSe.toFixed(3)})`
          : `${gapText}: no missed mass detected (more than ${(100 * bound).toFixed(0)} % missing is ruled out at ${zCrit} SE)`,
      );
    }
  }
  const thin: ThinCoordinate[] = [];
  if (input.proposalSd && input.probeSd) {
    const d = input.proposalSd.sd.length;
    if (input.probeSd.sd.length !== d) throw new ParameterError(`coverageCheck: ${d} proposal sds but ${input.probeSd.sd.length} probe sds`);
    const zStar = bonferroniZ(d);
    for (let i = 0; i < d; i++) {
      const sq = input.proposalSd.sd[i];
      const sp = input.probeSd.sd[i];
      const se = Math.hypot(input.proposalSd.se[i], input.probeSd.se[i]);
      if (!(sp > 0) || !Number.isFinite(sq) || !(se > 0)) continue;
      const z = (sp - sq) / se;
      if (sq / sp < 1 - minSdDrop && z > zStar) thin.push({ param: input.paramNames?.[i] ?? `x${i + 1}`, ratio: sq / sp, z });
    }
    if (thin.length > 0) {
      const shown = thin.slice(0, 4).map((t) => `${t.param} ${(100 * (1 - t.ratio)).toFixed(0)} % (${t.z.toFixed(1)} SE)`);
      messages.push(`the flow's sd is below the probe's in ${thin.length} coordinate(s): ${shown.join(', ')}${thin.length > 4 ? ', ...' : ''}; its tails are too thin`);
    }
  }
  const flagged = missed || thin.length > 0;
  const checked = logZGap !== null || (input.proposalSd !== undefined && input.probeSd !== undefined);
  const status: CoverageResult['status'] = !checked ? 'unchecked' : missed && thin.length ? 'missed-mass+thin-tails' : missed ? 'missed-mass' : thin.length ? 'thin-tails' : 'ok';
  return { flagged, status, logZGap, gapSe, missedMass, inconclusive, thin, messages };
}

/**
 * Marginal sds of n draws (row-major) and their standard errors. Unweighted: √((m4/σ⁴ − 1)/(4n)) σ
 * for i.i.d. draws. With `logWeights` (importance draws): the self-normalised estimate,
 * σ² = Σ w (x − m)², with the delta-method standard error √(Σ w² ((x − m)² − σ²)²) / (2σ)
 * (Owen 2013, "Monte Carlo theory, methods and examples", §9.2), which grows as the weights
 * concentrate.
 */
export function marginalSds(values: Float64Array, dim: number, logWeights?: ArrayLike<number>): { sd: Float64Array; se: Float64Array } {
  const n = values.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new ParameterError('marginalSds: need at least 2 whole rows');
  if (logWeights) return weightedSds(values, dim, n, logWeights);
  const sd = new Float64Array(dim);
  const se = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    let m = 0;
    for (let r = 0; r < n; r++) m += values[r * dim + j];
    m /= n;
    let m2 = 0;
    let m4 = 0;
    for (let r = 0; r < n; r++) {
      const d2 = (values[r * dim + j] - m) ** 2;
      m2 += d2;
      m4 += d2 * d2;
    }
    m2 /= n;
    m4 /= n;
    sd[j] = Math.sqrt((m2 * n) / (n - 1));
    se[j] = m2 > 0 ? sd[j] * Math.sqrt(Math.max(m4 / (m2 * m2) - 1, 0) / (4 * n)) : 0;
  }
  return { sd, se };
}

function weightedSds(values: Float64Array, dim: number, n: number, logWeights: ArrayLike<number>): { sd: Float64Array; se: Float64Array } {
  if (logWeights.length !== n) throw new ParameterError(`marginalSds: ${logWeights.length} log weights for ${n} draws`);
  let max = -Infinity;
  for (let r = 0; r < n; r++) if (logWeights[r] > max) max = logWeights[r];
  if (!Number.isFinite(max)) throw new ParameterError('marginalSds: no finite log weight');
  const w = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) sum += w[r] = Number.isFinite(logWeights[r]) ? Math.exp(logWeights[r] - max) : 0;
  for (let r = 0; r < n; r++) w[r] /= sum;
  const sd = new Float64Array(dim);
  const se = new Float64Array(dim);
  for (let j = 0; j < dim; j++) {
    let m = 0;
    for (let r = 0; r < n; r++) m += w[r] * values[r * dim + j];
    let v = 0;
    for (let r = 0; r < n; r++) v += w[r] * (values[r * dim + j] - m) ** 2;
    let vv = 0;
    for (let r = 0; r < n; r++) vv += (w[r] * ((values[r * dim + j] - m) ** 2 - v)) ** 2;
    sd[j] = Math.sqrt(v);
    se[j] = v > 0 ? Math.sqrt(vv) / (2 * sd[j]) : 0;
  }
  return { sd, se };
}
