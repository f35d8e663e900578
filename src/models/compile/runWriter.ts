/**
 * The JavaScript of one run: its forward loop (values, and where the adjoints are fixed, the
 * adjoints too) and its backward loop, for one point (literal indices, the caller's point) or a
 * batch of rows. See compile.ts for the whole design.
 */
import * as S from '../special.js';
import type { Fusable, Operand, Statistic } from '../graph.js';
import type { KnownAdjoints, Segment } from './runs.js';

/** Index expressions of one mode: a single point (`nc` = 1, literal indices) or a batch of rows. */
export interface Indexing {
  batch: boolean;
  /** Element i (or the broadcast element) of an operand in a loop of length L. */
  at(o: Operand, L: number): string;
  /** The element's value and its adjoint as expressions: the frame, or (direct) the caller's point `$x` and gradient `$g` for the input. */
  val(o: Operand, L: number): string;
  adj(o: Operand, L: number): string;
  /** True when `o` is (part of) the input read from `$x`. */
  isInput(o: Operand): boolean;
}

/** `direct`: one point, the input's values and gradient read and written in the caller's arrays. */
export function indexing(kc: number, batch: boolean, direct: number): Indexing {
  const at = (o: Operand, L: number) => {
    const each = L > 1 && o.len > 1;
    if (o.c) return each ? `${o.off} + $i` : `${o.off}`;
    if (!batch) return each ? `${kc + o.off} + $i` : `${kc + o.off}`;
    return each ? `${kc} + (${o.off} + $i) * $nc + $r` : `${kc} + ${o.off} * $nc + $r`;
  };
  const isInput = (o: Operand) => !o.c && o.off < direct;
  const inInput = (o: Operand, L: number) => (L > 1 && o.len > 1 ? `${o.off} + $i` : `${o.off}`);
  return {
    batch,
    at,
    isInput,
    val: (o, L) => (isInput(o) ? `$x[${inInput(o, L)}]` : `$V[${at(o, L)}]`),
    adj: (o, L) => (isInput(o) ? `$g[${inInput(o, L)}]` : `$G[${at(o, L)}]`),
  };
}

const mentions = (code: string, id: string) => new RegExp(`(^|[^\w$.])${id.replace(/\$/g, '\\$')}($|[^\w$])`).test(code);

/** Every identifier of `code` that `to` maps, replaced by its image (property names and `$` names left alone). */
const renamer = (to: (id: string) => string | undefined) => (code: string) =>
  code.replace(/(^|[^\w$.])([A-Za-z_]\w*)/g, (m, lead: string, id: string) => {
    const r = to(id);
    return r === undefined ? m : lead + r;
  });

/** The `const name = expr;` statements of a family's `pre`/`shared` text, in order. */
const statements = (code: string) => [...code.matchAll(/const\s+(\w+)\s*=\s*([^;]+);/g)].map((m) => ({ name: m[1], expr: m[2] }));

/**
 * One run being written out. Values a map step produces stay in a local (`$t<k>`) for the steps
 * after it, and in backward the adjoint of such a value collects in a local (`$h<k>`), rather than
 * going through the frame and straight back (a store-to-load round trip per step and element).
 */
export class RunWriter {
  /** Step index of each map output (by node offset) that a later step of the run reads aligned. */
  private readonly local = new Map<number, number>();

  /** One point: broadcast inputs from outside the run, read once before it (`$c<n>`), by index. */
  private readonly hoisted = new Map<string, string>();
  /** Node elements the run's steps write. */
  private readonly producedHere = new Set<number>();

  constructor(
    private readonly seg: Extract<Segment, { kind: 'run' }>,
    private readonly ix: Indexing,
    private readonly consts: readonly number[],
    /** Collects the operands whose adjoints the code reads or adds to in the frame: what must be zero before a gradient. */
    private readonly touched: Operand[] = [],
    /** Collects values computed from data at compile time, read by the code as `$K[n]`. */
    private readonly K: Float64Array[] = [],
    /** Gradient passes: the adjoints known before running (a step then uses the number, and nothing adds to it). */
    private readonly known?: KnownAdjoints,
  ) {
    const producer = new Map<number, number>();
    for (const st of seg.steps) for (let e = st.out.off; e < st.out.off + Math.max(1, st.out.len); e++) this.producedHere.add(e);
    seg.steps.forEach((s, k) => {
      for (const a of s.inputs) {
        const p = a.c ? undefined : producer.get(a.off);
        if (p !== undefined && seg.steps[p].out.len === a.len) this.local.set(a.off, p);
      }
      if (!s.reduce) producer.set(s.out.off, k);
    });
    const external = seg.external ?? seg.steps.map(() => true);
    this.external = external;
    this.stored = seg.steps.map((s, k) => s.reduce || external[k]);
    seg.steps.forEach((s, j) => {
      const needs = backwardNeeds(s);
      if (needs.y) this.stored[j] = true;
      s.inputs.forEach((a, q) => {
        const k = needs.inputs[q] ? this.localOf(a) : undefined;
        if (k !== undefined) this.stored[k] = true;
      });
    });
  }

  /** Per step: its output is read outside the run. */
  private readonly external: boolean[];
  /** Per step: its output goes to the frame (read outside the run, or by the backward pass). */
  private readonly stored: boolean[];

  private at(o: Operand): string {
    return this.ix.at(o, this.seg.L);
  }

  private localOf(o: Operand): number | undefined {
    return o.c ? undefined : this.local.get(o.off);
  }

  /** An input's value: a literal (scalar constants), a local, or a read of the frame. */
  private read(o: Operand, fresh = false): string {
    if (o.c && o.len === 1) return literal(this.consts[o.off]);
    const k = fresh ? undefined : this.localOf(o);
    if (k !== undefined) return `$t${k}`;
    const ref = this.ix.val(o, this.seg.L);
    const outside = o.c || !this.producedHere.has(o.off);
    if (o.len !== 1 && this.seg.L > 1 && outside && this.elementLoads) {
      // An element from outside the run, read once per iteration: V8 does not merge repeated typed-array loads.
      let name = this.elementLoads.get(ref);
      if (!name) this.elementLoads.set(ref, (name = `$e${this.elementLoads.size}`));
      return name;
    }
    // A value from outside the run does not change during it: read it once (V8 cannot tell, the run writes the frame).
    if (this.ix.batch || o.len !== 1 || !outside) return ref;
    let name = this.hoisted.get(ref);
    if (!name) this.hoisted.set(ref, (name = `$c${this.hoisted.size}`));
    return name;
  }

  /** While a loop's body is written: the elements it reads from outside the run, by index, as `$e<n>`. */
  private elementLoads: Map<string, string> | null = null;

  /** What `write()` returns, and the declarations of the element reads it registered (for the top of the loop body). */
  private loopBody<T>(write: () => T): { decl: string; code: T } {
    this.elementLoads = new Map();
    const code = write();
    const decl = [...this.elementLoads.entries()].map(([ref, n]) => `const ${n} = ${ref};`).join(' ');
    this.elementLoads = null;
    return { decl, code };
  }

  /** Statements for the top of the run's block, before its loop (hoisted shared subexpressions). */
  private readonly preLoop: string[] = [];
  /** Reductions whose shared subexpressions were hoisted, as rewritten. */
  private readonly sharedOf = new Map<number, Fusable>();

  /**
   * One point, loops: the statements of a reduction's `pre` that use only broadcast inputs (1 / σ
   * for a single σ) run once before the loop, under names of their own; returns the step with
   * those names put in.
   */
  private hoistShared(s: Fusable, k: number, again = false): Fusable {
    if (this.ix.batch || this.seg.L <= 1 || !s.pre) return s;
    if (again) {
      // Merged: the forward step of this reduction hoisted these already, under the same names.
      const done = this.sharedOf.get(k);
      if (done) return done;
    }
    const stmts = statements(s.pre);
    const renamed = new Map<string, string>();
    const kept: string[] = [];
    const rename = renamer((id) => renamed.get(id));
    const foldedValues = new Map<string, Float64Array>();
    const input = (n: string) => s.inputs[s.names.indexOf(n)];
    for (const st of stmts) {
      const uses = (n: string) => mentions(st.expr, n);
      const args = s.names.filter(uses);
      const usesKept = kept.some(uses);
      const usesFolded = [...foldedValues.keys()].some(uses);
      const usesHoisted = [...renamed.keys()].some((n) => !foldedValues.has(n) && uses(n));
      if (!usesKept && !usesHoisted && args.every((n) => input(n).c) && (usesFolded || args.some((n) => input(n).len !== 1))) {
        // Data only (1 / σ for known σs, log y): computed now for every element, read in the loop.
        const id = this.K.length;
        const values = this.evaluate(s, st.expr, foldedValues);
        this.K.push(values);
        foldedValues.set(st.name, values);
        this.preLoop.push(`const $K${id} = $K[${id}];`);
        renamed.set(st.name, `$K${id}[$i]`);
        continue;
      }
      if (usesKept || usesFolded || args.some((n) => input(n).len !== 1)) {
        kept.push(st.name);
        continue;
      }
      renamed.set(st.name, this.hoistStatement(s, `$p${k}_${st.name}`, st.expr, rename));
    }
    // A guard on data alone (σ > 0 for known σs) that holds at every element is dropped.
    let guard = s.guard;
    if (guard && s.names.every((n) => !mentions(guard!, n) || input(n).c) && this.evaluate(s, guard, new Map()).every((v) => Boolean(v))) guard = 'true';
    if (renamed.size === 0 && guard === s.guard) return s;
    const pre = stmts.filter((st) => !renamed.has(st.name)).map((st) => `const ${st.name} = ${rename(st.expr)};`).join(' ');
    const out = { ...s, pre, value: rename(s.value), adjoints: s.adjoints.map((d) => (d === null ? null : rename(d))), ...(guard ? { guard: rename(guard) } : {}) };
    this.sharedOf.set(k, out);
    return out;
  }

  /** `expr` (on broadcast inputs, names mapped by `rename`) computed once before the loop, as `name`. */
  private hoistStatement(s: Fusable, name: string, expr: string, rename: (code: string) => string): string {
    this.preLoop.push(`let ${name}; { ${this.loads(s, expr, (a) => a.len === 1)} ${name} = (${rename(expr)}); }`);
    return name;
  }

  /** Reductions in their sufficient-statistic form, as rewritten (by step). */
  private readonly statOf = new Map<number, Fusable & { statistic: Statistic }>();
  /** Statements after the loop, before the sums are added to the frame: adjoints from a statistic. */
  private readonly afterLoop: string[] = [];

  /**
   * One point, loops: a reduction through its sufficient statistic (graph.ts `Statistic`), as a
   * step whose `pre`/`value`/`adjoints` are the per-element statistic and whose shared
   * statements run once before the loop; null where it does not apply. An input whose adjoint
   * comes after the loop must not be produced in the run (its readers in the loop would miss it).
   */
  private statForm(s: Fusable, k: number): (Fusable & { statistic: Statistic }) | null {
    const st = s.statistic;
    if (!st || this.ix.batch || this.seg.L <= 1) return null;
    if (s.guard && s.names.some((n, j) => mentions(s.guard!, n) && s.inputs[j].len !== 1)) return null;
    if (s.inputs.some((a, j) => st.after[j] !== null && !a.c && this.producedHere.has(a.off))) return null;
    const done = this.statOf.get(k);
    if (done) return done;
    const renamed = new Map<string, string>([
      ['sum', `$q${k}`],
      ['count', String(this.seg.L)],
    ]);
    const rename = renamer((id) => renamed.get(id));
    for (const { name, expr } of statements(st.shared)) renamed.set(name, this.hoistStatement(s, `$q${k}_${name}`, expr, rename));
    const out = {
      ...s,
      pre: rename(st.pre),
      value: rename(st.sum),
      adjoints: st.adjoints.map((d) => (d === null ? null : rename(d))),
      statistic: { ...st, value: rename(st.value), after: st.after.map((d) => (d === null ? null : rename(d))) },
    };
    this.statOf.set(k, out);
    return out;
  }

  /** `expr` at every element of the run, from data inputs and the values folded before it. */
  private evaluate(s: Fusable, expr: string, folded: ReadonlyMap<string, Float64Array>): Float64Array {
    const names = [...folded.keys()];
    const f = new Function('S', ...s.names, ...names, `"use strict"; return (${expr});`) as (...a: unknown[]) => number;
    const out = new Float64Array(this.seg.L);
    for (let i = 0; i < this.seg.L; i++) {
      const args = s.inputs.map((o) => (o.c ? this.consts[o.off + (o.len === 1 ? 0 : i)] : NaN));
      out[i] = f(S, ...args, ...names.map((n) => folded.get(n)![i]));
    }
    return out;
  }

  /** Declarations of the hoisted broadcast inputs, for the top of the run's block. */
  private hoists(): string {
    return [...this.hoisted.entries()]
      .map(([ref, n]) => `const ${n} = ${ref};`)
      .concat(this.preLoop)
      .join(' ');
  }

  /** A reduction's adjoint in a one-point loop: no step of the run writes it, so it is read once. */
  private reductionAdjoint(o: string): string {
    const key = `$G[${o}]`;
    let name = this.hoisted.get(key);
    if (!name) this.hoisted.set(key, (name = `$d${this.hoisted.size}`));
    return name;
  }

  /** `const name = value;` for the inputs that `code` mentions (and that pass `only`). */
  private loads(s: Fusable, code: string, only?: (o: Operand) => boolean, fresh = false): string {
    return s.inputs
      .map((o, j) => ((only && !only(o)) || !mentions(code, s.names[j]) ? '' : `const ${s.names[j]} = ${this.read(o, fresh)};`))
      .join(' ');
  }

  /** Forward code of step k: before the loop, in the loop body, after the loop. */
  private forwardStep(s: Fusable, k: number, merged: boolean): { pre: string; body: string; post: string } {
    const o = this.at(s.out);
    if (!s.reduce) {
      const keep = merged || [...this.local.values()].includes(k);
      // Merged: the adjoints are added in the same loop, from the locals; only readers outside need the frame.
      const store = (merged ? this.external[k] : this.stored[k]) ? `$V[${o}] = $t${k};` : '';
      const body = keep
        ? `let $t${k}; { ${this.loads(s, s.value)} $t${k} = (${s.value}); } ${store}`
        : `{ ${this.loads(s, s.value)} $V[${o}] = (${s.value}); }`;
      return { pre: '', body, post: '' };
    }
    const stat = this.statForm(s, k);
    s = stat ?? this.hoistShared(s, k);
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
    // A guard on broadcast inputs only (σ > 0 for one σ) is decided once, before the loop: a
    // conditional store in the loop keeps V8 from holding the sum in a register. The terms are
    // then summed unconditionally (pure; the result is −∞ anyway if the guard fails).
    const invariant = many && s.names.every((n, j) => !mentions(guard, n) || s.inputs[j].len === 1);
    // Otherwise each element counts its guard's failures ($b) without a branch, for the same reason.
    const decided = invariant ? `let $ok${k}; { ${this.loads(s, guard, (a) => a.len === 1)} $ok${k} = (${guard}); }` : '';
    // A statistic sums into $q; its terms join the sum after the loop.
    const acc = stat ? `$q${k}` : `$a${k}`;
    const init = `${decided} let $a${k} = 0, $b${k} = ${invariant ? `$ok${k} ? 0 : 1` : '0'}; { ${onceLoads} $a${k} = ${once}; }${stat ? ` let $q${k} = 0;` : ''}`;
    const fromStat = stat ? `{ ${this.loads(s, stat.statistic.value, (a) => a.len === 1)} $a${k} += (${stat.statistic.value}); } ` : '';
    const post = `${fromStat}$V[${o}] = $b${k} > 0 ? -Infinity : $a${k};`;
    if (merged) {
      // The element's inputs, guard and shared subexpressions stay in scope for its adjoints below.
      const r = this.suffixed(s, k);
      const vals = this.loadsAs(s, `${invariant ? '' : guard} ${s.pre ?? ''} ${s.value} ${s.adjoints.join(' ')}`, r.names);
      const check = invariant ? '' : `const $ok${k} = (${r.guard}); $b${k} += $ok${k} ? 0 : 1;`;
      return { pre: init, body: `${vals} ${check} ${r.pre} ${acc} += (${r.value});`, post };
    }
    const check = invariant ? '' : `$b${k} += (${guard}) ? 0 : 1;`;
    return { pre: init, body: `{ ${this.loads(s, `${invariant ? '' : guard} ${s.pre ?? ''} ${s.value}`)} ${check} ${s.pre ?? ''} ${acc} += (${s.value}); }`, post };
  }

  /** A step's input names and shared subexpressions renamed apart (suffix `$k`), so that they can sit in the loop body's scope. */
  private suffixed(s: Fusable, k: number): { names: string[]; guard: string; pre: string; value: string; adjoints: (string | null)[] } {
    const own = new Set([...s.names, ...statements(s.pre ?? '').map((st) => st.name)]);
    const rename = renamer((id) => (own.has(id) ? `${id}$${k}` : undefined));
    return {
      names: s.names.map((n) => `${n}$${k}`),
      guard: rename(s.guard ?? 'true'),
      pre: rename(s.pre ?? ''),
      value: rename(s.value),
      adjoints: s.adjoints.map((d) => (d === null ? null : rename(d))),
    };
  }

  /** `d` is `g * x` with x bound to data whose every value is finite. */
  private timesFiniteData(s: Fusable, d: string): boolean {
    const m = /^g \* (\w+)$/.exec(d);
    const j = m ? s.names.indexOf(m[1]) : -1;
    if (j < 0 || !s.inputs[j].c) return false;
    const o = s.inputs[j];
    for (let e = o.off; e < o.off + o.len; e++) if (!Number.isFinite(this.consts[e])) return false;
    return true;
  }

  /** `const <as[j]> = value;` for the inputs that `code` mentions. */
  private loadsAs(s: Fusable, code: string, as: readonly string[]): string {
    return s.inputs.map((o, j) => (mentions(code, s.names[j]) ? `const ${as[j]} = ${this.read(o)};` : '')).join(' ');
  }

  /** `merged`: the run's adjoints too, element by element in the same loop (runs markMerged chose). */
  forward(merged = false): string {
    const m = merged && this.seg.merged === true;
    const {
      decl: elements,
      code: [parts, back],
    } = this.loopBody(() => [this.seg.steps.map((s, k) => this.forwardStep(s, k, m)), m ? this.adjointBody(true) : null] as const);
    if (this.seg.L === 1) {
      // One element: each step's set-up, term and result in order (a later step may read it).
      const fwd = parts.map((p) => `${p.pre} ${p.body} ${p.post}`).join('\n');
      const code = loop(1, this.ix, back ? `${fwd}\n${back.body}` : fwd);
      return `{ ${this.hoists()} ${back?.decl ?? ''} ${code} ${back?.flush ?? ''} }`;
    }
    // A block of its own: the accumulators' names repeat from run to run.
    const body = loop(this.seg.L, this.ix, `${elements}\n${parts.map((p) => p.body).join('\n')}\n${back?.body ?? ''}`);
    return `{\n${this.hoists()} ${back?.decl ?? ''}\n${parts.map((p) => p.pre).join('\n')}\n${body}\n${parts.map((p) => p.post).join('\n')}\n${this.afterLoop.join(' ')} ${back?.flush ?? ''}\n}`;
  }

  /** The adjoint code of one element (steps in reverse), with its declarations and the adds after the loop. */
  private adjointBody(merged = false): { decl: string; body: string; flush: string } {
    const { seg, ix } = this;
    // One point: an adjoint for a value from outside the run sums in a local, added to $G after it.
    const sums = new Map<string, string>();
    // A head that starts at 0 takes its first contribution by assignment (0 + g is not g for g = −0, so V8 keeps the add).
    const written = new Set<number>();
    const sink = (a: Operand): string | null => {
      // Its producer uses the known adjoint: nothing needs to add to it.
      if (this.known?.ofOperand(a) !== undefined) return null;
      const k = this.localOf(a);
      if (k !== undefined) {
        const fresh = !written.has(k) && (!this.external[k] || merged);
        written.add(k);
        return fresh ? `$h${k} =` : `$h${k} +=`;
      }
      const ref = ix.adj(a, seg.L);
      if (!ix.isInput(a)) this.touched.push(a);
      if (ix.batch || a.len !== 1 || this.producedHere.has(a.off)) return `${ref} +=`;
      let name = sums.get(ref);
      if (!name) sums.set(ref, (name = `$s${sums.size}`));
      return `${name} +=`;
    };
    // Steps in reverse, so that `written` sees each head's first contribution first.
    const steps: string[] = [];
    for (let k = seg.steps.length - 1; k >= 0; k--) steps.push(this.backwardStep(seg.steps[k], k, sink, merged));
    // An output read only inside the run starts with no adjoint: nothing outside adds to it.
    const outside = (k: number) => {
      if (!this.external[k] || merged || this.known?.ofStep(seg.steps[k]) !== undefined) return '0';
      this.touched.push(seg.steps[k].out);
      return `$G[${this.at(seg.steps[k].out)}]`;
    };
    const heads = [...new Set(this.local.values())].map((k) => `let $h${k} = ${outside(k)};`).join(' ');
    return {
      decl: [...sums.values()].map((n) => `let ${n} = 0;`).join(' '),
      body: steps.every((c) => c.trim() === '') ? '' : `${heads}\n${steps.join('\n')}`,
      flush: [...sums.entries()].map(([ref, n]) => `${ref} += ${n};`).join(' '),
    };
  }

  backward(): string {
    if (this.seg.merged) return '';
    const { decl: elements, code: b } = this.loopBody(() => this.adjointBody());
    if (b.body === '') return '';
    return `{ ${this.hoists()} ${b.decl}\n${loop(this.seg.L, this.ix, `${elements} ${b.body}`)}\n${b.flush} }`;
  }

  /** `merged`: inside the forward loop; values come from its locals, and outside adjoints are known (`known`). */
  private backwardStep(s: Fusable, k: number, sink: (a: Operand) => string | null, merged = false): string {
    const o = this.at(s.out);
    const known = this.known?.ofStep(this.seg.steps[k]);
    if (known === 0) return '';
    // Merged, a statistic's forward step left its per-element values in scope; the others' adjoints come after the loop.
    const stat = s.reduce && merged ? this.statForm(s, k) : null;
    if (s.reduce) s = stat ?? this.hoistShared(s, k, merged);
    // Merged reductions: the forward code of this element left its inputs and shared values in scope, renamed.
    const renamed = merged && s.reduce ? this.suffixed(s, k) : null;
    const after = stat
      ? s.inputs
          .map((a, j) => {
            const d = stat.statistic.after[j];
            const target = a.c || d === null ? null : sink(a);
            return target === null ? '' : `{ ${this.loads(s, d!, (o) => o.len === 1)} ${target} (${d}); }`;
          })
          .filter((c) => c !== '')
          .join(' ')
      : '';
    const exprs: string[] = [];
    const adds = s.inputs
      .map((a, j) => {
        const d = s.adjoints[j];
        if (a.c || d === null) return '';
        const target = sink(a);
        if (target === null) return '';
        exprs.push(d);
        return `${target} (${renamed ? renamed.adjoints[j] : d});`;
      })
      .join(' ');
    if (adds === '' && after === '') return '';
    const oneLoop = !this.ix.batch && this.seg.L > 1;
    const readInside = [...this.local.values()].includes(k);
    let g: string;
    // A known adjoint (markMerged guarantees one for every outside-read output of a merged run) is its number.
    if (known !== undefined) g = literal(known);
    else if (!s.reduce && readInside) g = `$h${k}`;
    else {
      this.touched.push(s.out);
      g = s.reduce && oneLoop ? this.reductionAdjoint(o) : `$G[${o}]`;
    }
    if (after !== '') this.afterLoop.push(`{ const g = ${g}; if ($ok${k}) { ${after} } }`);
    if (renamed) return adds === '' ? '' : `{ const g = ${g}; if ($ok${k}) { ${adds} } }`;
    const used = backwardText(s, exprs);
    // Values: merged, the forward loop's locals; otherwise the frame (the forward pass stored what is read here).
    const vals = this.loads(s, used, undefined, !merged);
    if (!s.reduce) {
      const y = mentions(used, 'y') ? `const y = ${merged ? `$t${k}` : `$V[${o}]`};` : '';
      // A zero adjoint is skipped so that 0 · ∞ cannot make a NaN; ±g alone, or g times finite data, cannot.
      if (exprs.every((d) => d === 'g' || d === '-g' || this.timesFiniteData(s, d))) return `{ const g = ${g}; ${vals} ${y} ${adds} }`;
      return `{ const g = ${g}; if (g !== 0) { ${vals} ${y} ${adds} } }`;
    }
    return `{ const g = ${g}; if (g !== 0) { ${vals} if (${s.guard ?? 'true'}) { ${s.pre ?? ''} ${adds} } } }`;
  }
}

/** Which inputs (by position) and whether the output value `y` a step's backward code reads. */
function backwardNeeds(s: Fusable): { inputs: boolean[]; y: boolean } {
  const exprs = s.inputs.map((a, j) => (a.c ? null : s.adjoints[j])).filter((d): d is string => d !== null);
  if (exprs.length === 0) return { inputs: s.inputs.map(() => false), y: false };
  const used = backwardText(s, exprs);
  return { inputs: s.names.map((n) => mentions(used, n)), y: !s.reduce && mentions(used, 'y') };
}

/** The formulas a step's backward code evaluates, given the adjoints it adds (for which names it reads). */
function backwardText(s: Fusable, adjoints: readonly string[]): string {
  return `${adjoints.join(' ')} ${s.reduce ? `${s.guard ?? ''} ${s.pre ?? ''}` : ''}`;
}

/** A number as JavaScript source that evaluates to exactly it. */
function literal(v: number): string {
  if (Object.is(v, -0)) return '(-0)';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '(-Infinity)';
  return v < 0 ? `(${String(v)})` : String(v);
}

function loop(L: number, ix: Indexing, body: string): string {
  const rows = (b: string) => (ix.batch ? `for (let $r = 0; $r < $nc; $r++) { ${b} }` : b);
  if (L === 1) return ix.batch ? rows(body) : `{ ${body} }`;
  return `for (let $i = 0; $i < ${L}; $i++) ${ix.batch ? rows(body) : `{ ${body} }`}`;
}

