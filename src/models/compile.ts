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
import type { Frame, Graph, Instr, Operand } from './graph.js';
import { CHUNK_STEPS, fixedAdjoints, knownAdjoints, markExternal, markMerged, segments, type KnownAdjoints, type Segment } from './compile/runs.js';
import { RunWriter, indexing } from './compile/runWriter.js';

export { segments };

/** Compiled passes over a frame. */
export interface CompiledPasses {
  /** Values only. `x`: the point, when `direct`. */
  forward(f: Frame, x?: Float64Array): void;
  /**
   * Values and adjoints; the caller zeroes the adjoints (`adjointRanges`) and seeds the log
   * density's with 1 first. When `direct`, the point is `x` and its gradient is added to `g` (zeroed by the caller).
   */
  gradient(f: Frame, x?: Float64Array, g?: Float64Array): void;
  /** One point, no calls: the input is read from the caller's point and its gradient written to the caller's array, not the frame. */
  readonly direct: boolean;
  /**
   * One point: the node ranges [start, end) whose adjoints the gradient reads or adds to (the input
   * and the log density are the caller's); null: every node (batches, programs with calls).
   */
  readonly adjointRanges: readonly (readonly [number, number])[] | null;
}

type Pass = ($V: Float64Array, $G: Float64Array, $f: Frame, $I: readonly Instr[], $nc: number, $x: Float64Array | undefined, $g: Float64Array | undefined) => void;

function build(code: string, K: readonly Float64Array[]): Pass {
  return new Function('S', '$K', `"use strict"; return function ($V, $G, $f, $I, $nc, $x, $g) {\n${code}\n};`)(S, K) as Pass;
}

/** Cuts code into functions of at most CHUNK_STEPS steps each. */
function chunked(pieces: readonly { code: string; steps: number }[], K: readonly Float64Array[]): Pass[] {
  const fns: Pass[] = [];
  let code: string[] = [];
  let steps = 0;
  for (const p of pieces) {
    if (steps + p.steps > CHUNK_STEPS && code.length > 0) {
      fns.push(build(code.join('\n'), K));
      code = [];
      steps = 0;
    }
    code.push(p.code);
    steps += p.steps;
  }
  if (code.length > 0) fns.push(build(code.join('\n'), K));
  return fns;
}

const stepsOf = (s: Segment) => (s.kind === 'run' ? s.steps.length : 1);

/** Sorted, disjoint [start, end) node ranges covering the operands; gaps up to `GAP` are filled in (one fill beats many). */
const GAP = 64;
function mergeRanges(ops: readonly Operand[]): [number, number][] {
  const rs = ops.map((o) => [o.off, o.off + Math.max(1, o.len)] as [number, number]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + GAP) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Compiles the graph's instructions for frames with constant pool size `kc`, for one point or for batches. */
export function compilePasses(graph: Graph, kc: number, batch: boolean, lp: Operand, dim: number): CompiledPasses {
  const instrs = graph.instrs;
  const segs = segments(instrs);
  markExternal(segs, graph.nodeLen, lp);
  const hasCalls = segs.some((s) => s.kind === 'call');
  // Calls read the input from the frame; without them the compiled code reads the caller's point.
  const direct = !batch && !hasCalls;
  const ix = indexing(kc, batch, direct ? dim : 0);
  const touched: Operand[] = [];
  const K: Float64Array[] = [];
  let known: KnownAdjoints | undefined;
  const write = (seg: Segment) => {
    if (seg.kind === 'call') return null;
    return new RunWriter(seg, ix, graph.consts, touched, K, known);
  };
  const forwardOf = (seg: Segment, merged: boolean) => ({
    code: seg.kind === 'call' ? `$I[${seg.index}].forward($f);` : write(seg)!.forward(merged),
    steps: stepsOf(seg),
  });
  const backwardOf = (seg: Segment) => ({ code: seg.kind === 'call' ? `$I[${seg.index}].backward($f);` : write(seg)!.backward(), steps: stepsOf(seg) });
  const fwd = chunked(segs.map((seg) => forwardOf(seg, false)), K);
  const fixed = batch ? null : fixedAdjoints(segs, graph.nodeLen, lp);
  if (fixed) {
    known = knownAdjoints(segs, fixed, graph.nodeLen);
    markMerged(segs, known);
  }
  // Forward and backward in one list of functions: a small program is one call.
  const grad = chunked([...segs.map((seg) => forwardOf(seg, fixed !== null)), ...[...segs].reverse().map(backwardOf)], K);
  const run = (fns: Pass[], f: Frame, x?: Float64Array, g?: Float64Array) => {
    for (let k = 0; k < fns.length; k++) fns[k](f.V, f.G, f, instrs, f.nc, x, g);
  };
  return {
    direct,
    adjointRanges: batch || hasCalls ? null : mergeRanges(touched),
    forward: (f, x) => run(fwd, f, x),
    gradient: (f, x, g) => run(grad, f, x, g),
  };
}
