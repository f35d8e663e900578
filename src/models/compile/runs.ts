/**
 * Which instructions of a recorded program run together, and what their outputs need: the runs
 * of equal loop length (with the fusion rule), whether each output is read outside its run, and
 * the adjoints that are the same at every point. See compile.ts for the whole design.
 */
import type { Fusable, Instr, Operand } from '../graph.js';

/** Steps per run and per generated function: V8 optimises functions of this size well. */
export const CHUNK_STEPS = 160;

export type Segment =
  | {
      kind: 'run';
      L: number;
      steps: Fusable[];
      /** Per step: read outside the run (markExternal). */
      external?: boolean[];
      /** The run's adjoints are added inside its forward loop (markMerged). */
      merged?: boolean;
    }
  | { kind: 'call'; index: number };

/**
 * The adjoint of every node element that is the same at every point: the log density's is 1, and
 * a node read only by steps that pass ±g on (sums, `t.add`, add, sub, neg) of outputs with fixed
 * adjoints has one too (a likelihood term added to the log density: 1). NaN where it depends on
 * the point. Null when the program has calls, whose reads are not stated.
 */
export function fixedAdjoints(segs: readonly Segment[], nodeLen: number, lp: Operand): Float64Array | null {
  if (segs.some((s) => s.kind === 'call')) return null;
  const readers = new Uint32Array(nodeLen);
  for (const seg of segs) {
    if (seg.kind !== 'run') continue;
    for (const st of seg.steps) for (const a of st.inputs) if (!a.c) for (let e = a.off; e < a.off + a.len; e++) readers[e]++;
  }
  const acc = new Float64Array(nodeLen);
  const seen = new Uint32Array(nodeLen);
  const fixed = (e: number) => (seen[e] === readers[e] ? acc[e] + (e === lp.off ? 1 : 0) : NaN);
  for (let p = segs.length - 1; p >= 0; p--) {
    const seg = segs[p];
    if (seg.kind !== 'run') continue;
    for (let k = seg.steps.length - 1; k >= 0; k--) {
      const st = seg.steps[k];
      const outLen = Math.max(1, st.out.len);
      const gOut = Array.from({ length: outLen }, (_, i) => fixed(st.out.off + i));
      st.inputs.forEach((a, j) => {
        if (a.c) return;
        const d = st.adjoints[j];
        const sign = d === 'g' ? 1 : d === '-g' ? -1 : d === null ? 0 : NaN;
        for (let e = a.off; e < a.off + a.len; e++) {
          seen[e]++;
          // Reductions and broadcast inputs collect every element's adjoint; aligned maps one each.
          const each = st.reduce ? gOut[0] * (a.len === 1 ? st.L : 1) : a.len === 1 && st.L > 1 ? gOut.reduce((x, y) => x + y, 0) : gOut[e - a.off];
          acc[e] += sign === 0 ? 0 : sign * each;
        }
      });
    }
  }
  const out = new Float64Array(nodeLen);
  for (let e = 0; e < nodeLen; e++) out[e] = fixed(e);
  return out;
}

/**
 * Marks the runs whose backward pass can run inside their forward loop: every output read outside
 * the run has a known adjoint. Such a run adds its adjoints while its values are still in
 * registers, as a hand-written gradient would, and is skipped by the backward pass.
 */
export function markMerged(segs: Segment[], known: KnownAdjoints): void {
  for (const seg of segs) {
    if (seg.kind !== 'run' || !seg.external) continue;
    seg.merged = seg.steps.every((st, k) => !seg.external![k] || known.ofStep(st) !== undefined);
  }
}

/**
 * Marks, per step of every run, whether its output is read outside the run: by a later run, by
 * any call after it (calls do not state what they read), or as the log density itself. An output
 * read only inside its run needs no adjoint from the frame, and no store unless backward reads it.
 */
export function markExternal(segs: Segment[], nodeLen: number, lp: Operand): void {
  const readLater = new Uint8Array(nodeLen);
  for (let e = lp.off; e < lp.off + Math.max(1, lp.len); e++) readLater[e] = 1;
  let callAfter = false;
  for (let p = segs.length - 1; p >= 0; p--) {
    const seg = segs[p];
    if (seg.kind === 'call') {
      callAfter = true;
      continue;
    }
    seg.external = seg.steps.map((st) => {
      if (callAfter) return true;
      for (let e = st.out.off; e < st.out.off + Math.max(1, st.out.len); e++) if (readLater[e]) return true;
      return false;
    });
    for (const st of seg.steps) {
      for (const a of st.inputs) if (!a.c) for (let e = a.off; e < a.off + a.len; e++) readLater[e] = 1;
    }
  }
}

/**
 * Groups the instructions into fusable runs and calls. A step may move back past runs it reads
 * nothing from (steps between calls commute unless one reads the other's output), so
 * `t.add(cauchy(σ), normal(y, μ, σ))` still evaluates the normal in the loop that computes μ.
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
      // The run of the latest value it reads, when it fits there (it then reads the value from a
      // local: a copy into `stack(...)` sits by the step that computed the value; such a run may
      // grow to twice CHUNK_STEPS); else the latest run it may join.
      let home: (typeof open)[number] | null = null;
      for (let j = open.length - 1; j >= 0; j--) {
        const r = open[j];
        const fits = (cap: number) => r.L === step.L && r.steps.length < cap && readsAligned(step, r.produced, r.L);
        if (readsAny(step, r.produced)) {
          if (fits(2 * CHUNK_STEPS)) home = r;
          break;
        }
        if (!home && fits(CHUNK_STEPS)) home = r;
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


/** Adjoints known before running, by step and by operand (see knownAdjoints). */
export interface KnownAdjoints {
  /** The adjoint of the step's output, when it is the same known number for all its elements. */
  ofStep(step: Fusable): number | undefined;
  /** Defined when every element of `o` is produced by a step of known adjoint (nothing needs to add to it). */
  ofOperand(o: Operand): number | undefined;
}

/**
 * From fixedAdjoints: each step whose output's adjoint is one known number uses that number in
 * the backward pass (a likelihood term's 1), and the steps that read it need not add to it.
 */
export function knownAdjoints(segs: readonly Segment[], fixed: Float64Array, nodeLen: number): KnownAdjoints {
  const byStep = new Map<Fusable, number>();
  const producer: (Fusable | undefined)[] = new Array(nodeLen);
  for (const seg of segs) {
    if (seg.kind !== 'run') continue;
    for (const st of seg.steps) {
      const n = Math.max(1, st.out.len);
      const v = fixed[st.out.off];
      let uniform = Number.isFinite(v);
      for (let e = st.out.off; e < st.out.off + n; e++) {
        producer[e] = st;
        if (fixed[e] !== v) uniform = false;
      }
      if (uniform) byStep.set(st, v);
    }
  }
  return {
    ofStep: (st) => byStep.get(st),
    ofOperand(o) {
      if (o.c) return undefined;
      let v: number | undefined;
      for (let e = o.off; e < o.off + Math.max(1, o.len); e++) {
        const p = producer[e];
        const pv = p && byStep.get(p);
        if (pv === undefined) return undefined;
        v = pv;
      }
      return v;
    },
  };
}
