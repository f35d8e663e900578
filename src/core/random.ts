/**
 * Seeded random streams. Every random choice in flowsampler goes through a RandomStream so that
 * the same seed gives the same numbers. The generator is seedrandom's xor4096 (Brent 2006),
 * which is fast in V8 and has a period far beyond any run here; normals come from Box–Muller
 * with the second variate cached *in the stream state*, so a saved state replays exactly. The
 * logarithm, sine and cosine of Box–Muller are portableMath's, so a seed gives the same bits in
 * every JavaScript engine (Node versions and browsers differ in Math.cos and Math.exp).
 *
 * Parallel chains get independent derived streams: `stream.derive('chain', 3)` hashes the
 * parent's seed with a label, so adding a chain never changes the numbers of the others.
 */
import seedrandom from 'seedrandom';
import { log, sinCosTurn } from './portableMath.js';

/** Scratch for sin and cos of one Box–Muller angle. */
const scratch = new Float64Array(2);

type Prng = seedrandom.StatefulPRNG<seedrandom.State.Xor4096>;

export interface RandomStreamState {
  seed: string;
  prng: seedrandom.State.Xor4096;
  spare: number | null;
}

export class RandomStream {
  readonly seed: string;
  private prng: Prng;
  /** Box–Muller produces normals in pairs; the second one waits here. */
  private spare: number | null = null;

  constructor(seed: number | string, state?: RandomStreamState) {
    this.seed = String(seed);
    if (state) {
      this.prng = seedrandom.xor4096('', { state: state.prng });
      this.spare = state.spare;
    } else {
      this.prng = seedrandom.xor4096(this.seed, { state: true });
    }
  }

  /** An independent stream for a sub-task, e.g. `derive('chain', 2)`. Deterministic. */
  derive(...label: (string | number)[]): RandomStream {
    return new RandomStream(`${this.seed}/${label.join('/')}`);
  }

  /** Uniform on the open interval (0, 1), 53-bit resolution. */
  uniform(): number {
    let u = this.prng.double();
    while (u === 0) u = this.prng.double();
    return u;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.prng.int32() >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box–Muller (Box & Muller 1958). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * log(this.uniform()));
    const sc = sinCosTurn(this.uniform(), scratch);
    this.spare = r * sc[0];
    return r * sc[1];
  }

  /** Fills `out` with standard normals (two per Box–Muller step; the cache is respected). */
  fillNormal(out: Float64Array): Float64Array {
    let i = 0;
    const n = out.length;
    if (n > 0 && this.spare !== null) {
      out[i++] = this.spare;
      this.spare = null;
    }
    for (; i + 1 < n; i += 2) {
      const r = Math.sqrt(-2 * log(this.uniform()));
      const sc = sinCosTurn(this.uniform(), scratch);
      out[i] = r * sc[1];
      out[i + 1] = r * sc[0];
    }
    if (i < n) out[i] = this.normal();
    return out;
  }

  /** Fills `out` with uniforms on (0, 1). */
  fillUniform(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }

  /** Exponential(1). */
  exponential(): number {
    return -log(this.uniform());
  }

  /** A serialisable snapshot; `new RandomStream(seed, state)` resumes exactly. */
  state(): RandomStreamState {
    return { seed: this.seed, prng: this.prng.state(), spare: this.spare };
  }

  /** A 32-bit integer seed for libraries that take one (e.g. tfjs random ops). */
  intSeed(): number {
    return this.uint32() & 0x7fffffff;
  }
}
