/**
 * Compiles a recorded graph to JavaScript functions, so a model's log density and gradient run as
 * straight-line code and fused loops instead of one interpreted kernel call per instruction.
 *
 * Instructions that state themselves as elementwise formulas (`Instr.fused`: maps, reductions,
 * distribution families, sums, copies) are grouped into runs of equal loop length; a run becomes
 * one loop whose body evaluates every instruction of the run at element i, with every index a
 * literal (one point) or a literal plus the row (batches). Scalar programs (recursions such as
 * GARCH or AR, where every step is a few scalar ops) become straight-line code. The backward pass
 * runs the same runs in reverse, each body in reverse, adding adjoints. Any other instruction
 * (matrix products, Cholesky, gathers, ...) is called as it is, between runs.
 *
 * A run stays correct only if element i of an instruction reads nothing that a later element of
 * an earlier instruction in the same run writes: an input that overlaps a value produced inside
 * the run must be exactly that value, aligned (same start, length L). Anything else ends the run.
 *
 * The generated code contains only the formulas of the op tables and numeric offsets, never user
 * input. Functions are cut into chunks of at most CHUNK_STEPS steps so that V8 optimises each.
 */
import * as S from './special.js';
import type { Frame, Fusable, Graph, Instr, Operand } from './graph.js';

const CHUNK_STEPS = 160;

/** Forward and backward passes over a frame; the caller zeroes and seeds the adjoints. */
export interface CompiledPasses {
  forward(f: Frame): void;
  backward(f: Frame): void;
  /** Loops and straight-line blocks the program became (for benches and docs). */
  readonly runs: number;
}

type Segment = { kind: 'run'; L: number; steps: Fusable[] } | { kind: 'call'; index: number };

/**
 * Groups the instructions into fusable runs and calls. A step joins the latest run of its length
 * that it may move back to: one it reads nothing from any later run of (steps between calls
 * commute unless one reads the other's output), so `t.add(cauchy(σ), normal(y, μ, σ))` still
 * evaluates the normal in the loop that computes μ.
 */
export function segments(instrs: readonly Instr[]): Segment[] {
  const out: Segment[] = [];
  let open: { L: number; steps: Fusable[]; produced: Operand[] }[] = [];
  const close = () => {
    for (const r of open) out.push({ kind: 'run', L: r.L, steps: r.steps });
    open = [];
  };
  instrs.forEach((ins, index) => {
    if (!ins.fused || ins.fused.length === 0) {
      close();
      out.push({ kind: 'call', index });
      return;
    }
    for (const step of ins.fused) {
      let home: (typeof open)[number] | null = null;
      for (let j = open.length - 1; j >= 0; j--) {
        const r = open[j];
        if (r.L === step.L && r.steps.length < CHUNK_STEPS && readsAligned(step, r.produced, r.L)) {
          home = r;
          break;
        }
        if (readsAny(step, r.produced)) break;
      }
      if (!home) {
        home = { L: step.L, steps: [], produced: [] };
        open.push(home);
      }
      home.steps.push(step);
      home.produced.push(step.out);
    }
  });
  close();
  return out;
}

function overlaps(a: Operand, p: Operand): boolean {
  return !a.c && a.off < p.off + p.len && p.off < a.off + a.len;
}

function readsAny(step: Fusable, produced: readonly Operand[]): boolean {
  return step.inputs.some((a) => produced.some((p) => overlaps(a, p)));
}

/** No input of `step` overlaps a value produced in the run unless it is that value, aligned. */
function readsAligned(step: Fusable, produced: readonly Operand[], L: number): boolean {
  for (const a of step.inputs) {
    for (const p of produced) {
      if (overlaps(a, p) && !(a.off === p.off && a.len === p.len && p.len === L)) return false;
    }
  }
  return true;
}

/** Index expressions of one mode: a single point (`nc` = 1, literal indices) or a batch of rows. */
interface Indexing {
  batch: boolean;
  /** Element i (or the broadcast element) of an operand in a loop of length L. */
  at(o: Operand, L: number): string;
}

function indexing(kc: number, batch: boolean): Indexing {
  return {
    batch,
    at(o, L) {
      const each = L > 1 && o.len > 1;
      if (o.c) return each ? `${o.off} + $i` : `${o.off}`;
      if (!batch) return each ? `${kc + o.off} + $i` : `${kc + o.off}`;
      return each ? `${kc} + (${o.off} + $i) * $nc + $r` : `${kc} + ${o.off} * $nc + $r`;
    },
  };
}

const mentions = (code: string, id: string) => new RegExp(`(^|[^\w$.])${id.replace(/\$/g, '\\$')}($|[^\w$])`).test(code);

/**
 * One run being written out. Values a map step produces stay in a local (`$t<k>`) for the steps
 * after it, and in backward the adjoint of such a value collects in a local (`$h<k>`), rather than
 * going through the frame and straight back (a store-to-load round trip per step and element).
 */
class RunWriter {
  /** Step index of each map output (by node offset) that a later step of the run reads aligned. */
  private readonly local = new Map<number, number>();

  constructor(
    private readonly seg: Extract<Segment, { kind: 'run' }>,
    private readonly ix: Indexing,
  ) {
    const producer = new Map<number, number>();
    seg.steps.forEach((s, k) => {
      for (const a of s.inputs) {
        const p = a.c ? undefined : producer.get(a.off);
        if (p !== undefined && seg.steps[p].out.len === a.len) this.local.set(a.off, p);
      }
      if (!s.reduce) producer.set(s.out.off, k);
    });
  }

  private at(o: Operand): string {
    return this.ix.at(o, this.seg.L);
  }

  private localOf(o: Operand): number | undefined {
    return o.c ? undefined : this.local.get(o.off);
  }

  /** `const name = value;` for the inputs that `code` mentions (and that pass `only`). */
  private loads(s: Fusable, code: string, only?: (o: Operand) => boolean): string {
    return s.inputs
      .map((o, j) => {
        if ((only && !only(o)) || !mentions(code, s.names[j])) return '';
        const k = this.localOf(o);
        return `const ${s.names[j]} = ${k === undefined ? `$V[${this.at(o)}]` : `$t${k}`};`;
      })
      .join(' ');
  }

  /** Forward code of step k: before the loop, in the loop body, after the loop. */
  private forwardStep(s: Fusable, k: number): { pre: string; body: string; post: string } {
    const o = this.at(s.out);
    if (!s.reduce) {
      const keep = [...this.local.values()].includes(k);
      const body = keep
        ? `let $t${k}; { ${this.loads(s, s.value)} $t${k} = (${s.value}); } $V[${o}] = $t${k};`
        : `{ ${this.loads(s, s.value)} $V[${o}] = (${s.value}); }`;
      return { pre: '', body, post: '' };
    }
    const guard = s.guard ?? 'true';
    const term = `${guard} ${s.pre ?? ''} ${s.value}`;
    const many = this.seg.L > 1;
    const once = s.once && many ? `${this.seg.L} * (${s.once})` : '0';
    const onceLoads = s.once && many ? this.loads(s, s.once, (a) => a.len === 1) : '';
    if (this.ix.batch) {
      // Per-row accumulators live in the output node itself.
      const init = `{ ${onceLoads} $V[${o}] = ${once}; }`;
      return {
        pre: many ? `for (let $r = 0; $r < $nc; $r++) ${init}` : init,
        body: `{ ${this.loads(s, term)} if (!(${guard})) $V[${o}] = -Infinity; else { ${s.pre ?? ''} $V[${o}] += (${s.value}); } }`,
        post: '',
      };
    }
    return {
      pre: `let $a${k} = 0, $b${k} = false; { ${onceLoads} $a${k} = ${once}; }`,
      body: `{ ${this.loads(s, term)} if (!(${guard})) $b${k} = true; else { ${s.pre ?? ''} $a${k} += (${s.value}); } }`,
      post: `$V[${o}] = $b${k} ? -Infinity : $a${k};`,
    };
  }

  forward(): string {
    const parts = this.seg.steps.map((s, k) => this.forwardStep(s, k));
    if (this.seg.L === 1) {
      // One element: each step's set-up, term and result in order (a later step may read it).
      return `{ ${loop(1, this.ix, parts.map((p) => `${p.pre} ${p.body} ${p.post}`).join('\n'))} }`;
    }
    // A block of its own: the accumulators' names repeat from run to run.
    return `{\n${parts.map((p) => p.pre).join('\n')}\n${loop(this.seg.L, this.ix, parts.map((p) => p.body).join('\n'))}\n${parts.map((p) => p.post).join('\n')}\n}`;
  }

  backward(): string {
    const { seg, ix } = this;
    // One point, loops: a broadcast input's adjoint sums in a local, added to $G after the loop.
    const sums = new Map<string, string>();
    const sink = (a: Operand): string => {
      const k = this.localOf(a);
      if (k !== undefined) return `$h${k}`;
      const at = this.at(a);
      if (ix.batch || seg.L <= 1 || a.len !== 1) return `$G[${at}]`;
      let name = sums.get(at);
      if (!name) sums.set(at, (name = `$s${sums.size}`));
      return name;
    };
    const steps = seg.steps.map((s, k) => this.backwardStep(s, k, sink)).reverse();
    if (steps.every((c) => c.trim() === '')) return '';
    const heads = [...new Set(this.local.values())].map((k) => `let $h${k} = $G[${this.at(seg.steps[k].out)}];`).join(' ');
    const body = `${heads}\n${steps.join('\n')}`;
    const decl = [...sums.values()].map((n) => `let ${n} = 0;`).join(' ');
    const flush = [...sums.entries()].map(([at, n]) => `$G[${at}] += ${n};`).join(' ');
    return `{ ${decl}\n${loop(seg.L, ix, body)}\n${flush} }`;
  }

  private backwardStep(s: Fusable, k: number, sink: (a: Operand) => string): string {
    const o = this.at(s.out);
    const exprs: string[] = [];
    const adds = s.inputs
      .map((a, j) => {
        const d = s.adjoints[j];
        if (a.c || d === null) return '';
        exprs.push(d);
        return `${sink(a)} += (${d});`;
      })
      .join(' ');
    if (adds === '') return '';
    const g = !s.reduce && [...this.local.values()].includes(k) ? `$h${k}` : `$G[${o}]`;
    const used = `${exprs.join(' ')} ${s.reduce ? `${s.guard ?? ''} ${s.pre ?? ''}` : ''}`;
    // Values come from the frame here: the forward pass stored them all.
    const vals = s.inputs
      .map((a, j) => (mentions(used, s.names[j]) ? `const ${s.names[j]} = $V[${this.at(a)}];` : ''))
      .join(' ');
    if (!s.reduce) {
      const y = mentions(used, 'y') ? `const y = $V[${o}];` : '';
      return `{ const g = ${g}; if (g !== 0) { ${vals} ${y} ${adds} } }`;
    }
    return `{ const g = ${g}; if (g !== 0) { ${vals} if (${s.guard ?? 'true'}) { ${s.pre ?? ''} ${adds} } } }`;
  }
}

function loop(L: number, ix: Indexing, body: string): string {
  const rows = (b: string) => (ix.batch ? `for (let $r = 0; $r < $nc; $r++) { ${b} }` : b);
  if (L === 1) return ix.batch ? rows(body) : `{ ${body} }`;
  return `for (let $i = 0; $i < ${L}; $i++) ${ix.batch ? rows(body) : `{ ${body} }`}`;
}

function forwardCode(seg: Segment, ix: Indexing): string {
  return seg.kind === 'call' ? `$I[${seg.index}].forward($f);` : new RunWriter(seg, ix).forward();
}

function backwardCode(seg: Segment, ix: Indexing): string {
  return seg.kind === 'call' ? `$I[${seg.index}].backward($f);` : new RunWriter(seg, ix).backward();
}

type Pass = ($V: Float64Array, $G: Float64Array, $f: Frame, $I: readonly Instr[], $nc: number) => void;

function build(code: string): Pass {
  return new Function('S', `"use strict"; return function ($V, $G, $f, $I, $nc) {\n${code}\n};`)(S) as Pass;
}

/** Cuts the segments into functions of at most CHUNK_STEPS steps each. */
function chunked(segs: readonly Segment[], emit: (s: Segment) => string): Pass[] {
  const fns: Pass[] = [];
  let code: string[] = [];
  let steps = 0;
  for (const s of segs) {
    const n = s.kind === 'run' ? s.steps.length : 1;
    if (steps + n > CHUNK_STEPS && code.length > 0) {
      fns.push(build(code.join('\n')));
      code = [];
      steps = 0;
    }
    code.push(emit(s));
    steps += n;
  }
  if (code.length > 0) fns.push(build(code.join('\n')));
  return fns;
}

/** Compiles the graph's instructions for frames with constant pool size `kc`, for one point or for batches. */
export function compilePasses(graph: Graph, kc: number, batch: boolean): CompiledPasses {
  const instrs = graph.instrs;
  const segs = segments(instrs);
  const ix = indexing(kc, batch);
  const fwd = chunked(segs, (s) => forwardCode(s, ix));
  const bwd = chunked([...segs].reverse(), (s) => backwardCode(s, ix));
  return {
    runs: segs.filter((s) => s.kind === 'run').length,
    forward(f) {
      for (let k = 0; k < fwd.length; k++) fwd[k](f.V, f.G, f, instrs, f.nc);
    },
    backward(f) {
      for (let k = 0; k < bwd.length; k++) bwd[k](f.V, f.G, f, instrs, f.nc);
    },
  };
}
