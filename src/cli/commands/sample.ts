import { resolve, dirname } from 'node:path';
import { readFlowArg, sameFile } from '../flowFileArg.js';
import { parseCommandArgs, intOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { writeFileAtomic, writeJsonAtomic } from '../../core/atomicWrite.js';
import { initBackend } from '../../core/backend.js';
import { flowFromJSON, type SavedFlow } from '../../flows/index.js';
import { parseTargetSpec } from '../../targets/registry.js';
import { expressionTarget } from '../../targets/expression.js';
import type { Target } from '../../targets/target.js';
import { NonFiniteError } from '../../core/errors.js';
import { checkArray, checkMemory, FLOAT64_BYTES } from '../../core/memory.js';
import { kishEss, paretoKThreshold, psis } from '../../diagnostics/index.js';
import { fmt, formatWarnings, makeWarning, type Warning } from '../../core/warnings.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';

/** Two paths name the same file (after symlinks), or the same path when they do not exist yet. */
/** Rows in chunks of lines, so a large n never becomes one string. */
function* csvChunks(head: string[], n: number, row: (i: number) => string): Generator<string> {
  yield head.join('\n') + '\n';
  for (let start = 0; start < n; start += 10_000) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(n, start + 10_000); i++) lines.push(row(i));
    yield lines.join('\n') + '\n';
  }
}
import { loadModelTarget } from '../../models/load.js';
import { cmdStanName } from '../../models/draws.js';

async function targetOfSavedFlow(doc: SavedFlow, model?: string, data?: string): Promise<Target | null> {
  if (model) return loadModelTarget(model, data);
  const t = doc.target as { spec?: string | null; expression?: string | null; model?: { file: string; data: string | null } | null } | undefined;
  if (t?.spec) return parseTargetSpec(t.spec);
  if (t?.expression) return expressionTarget(t.expression);
  if (t?.model) return loadModelTarget(t.model.file, t.model.data ?? undefined);
  return null;
}

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'load a saved flow and write draws with log q (and log p̃ when the target is known)',
  help: `usage: flowsampler sample --flow FILE [options]

Draws from a flow saved by 'flowsampler train', in one parallel pass, and writes each draw with
its log q. When the flow file names its target, log p̃ and the log importance weight
log p̃ − log q are written too. For a model (--model, or the model the flow was trained on),
the draws are written on the constrained scale with Stan's column names (beta.1, ...).

  --flow FILE        the saved flow (required)
  --model FILE       the model the flow was trained on (default: the one named in the flow file)
  --data FILE        Stan JSON data for --model
  --n N              number of draws (default 1000)
  --seed S           seed (default 1)
  --out FILE         output file, .csv or .json (default draws.csv); never the --flow file
${strictHelp}
  -h, --help         this help

When the target is known, the log weights are checked as importance sampling would (PSIS
k-hat, Kish ESS); a warning says when they are unreliable.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('sample', argv, {
      flow: { type: 'string' },
      model: { type: 'string' },
      data: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      ...strictOption,
    });
    const flowFile = values.flow as string | undefined;
    if (!flowFile) throw new UsageError("missing --flow FILE (see 'flowsampler sample --help')");
    const n = intOption('n', values.n as string | undefined, 1000, 1);
    const seedRaw = (values.seed as string | undefined) ?? '1';
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const out = resolve((values.out as string | undefined) ?? 'draws.csv');
    const format = out.endsWith('.json') ? 'json' : out.endsWith('.csv') ? 'csv' : null;
    if (!format) throw new UsageError(`--out must end in .csv or .json, got '${values.out as string}'`);
    if (await sameFile(out, flowFile)) throw new UsageError(`--out ${values.out as string} is the --flow file itself; writing the draws there would destroy the trained flow`);
    const doc = await readFlowArg(flowFile);
    await ensureOutputDir(dirname(out), '--out');
    await initBackend();
    const flow = flowFromJSON(doc, flowFile);
    const warnings: Warning[] = [];
    try {
      const target = await targetOfSavedFlow(doc, values.model as string | undefined, values.data as string | undefined);
      if (target && target.dim !== flow.dim) throw new UsageError(`the flow has dim ${flow.dim} but target ${target.name} has dim ${target.dim}`);
      const fd = flow.dim;
      checkArray(`sample: ${n} draws in dim ${fd}`, n * fd, FLOAT64_BYTES, 'a smaller --n');
      // The draws, their log q, log p̃ and, for JSON, one object per draw on the JS heap.
      checkMemory(`sample: ${n} draws in dim ${fd}`, n * (fd + 4) * FLOAT64_BYTES * (format === 'json' ? 8 : 1), 'a smaller --n');
      const sampled = flow.sampleArrays(n, seed);
      const { logq } = sampled;
      // A flow whose weights overflow float32 gives NaN or ±Inf draws: never write them.
      let badRows = 0;
      for (let i = 0; i < n; i++) {
        let ok = Number.isFinite(logq[i]);
        for (let j = 0; ok && j < fd; j++) ok = Number.isFinite(sampled.x[i * fd + j]);
        if (!ok) badRows++;
      }
      if (badRows > 0) {
        throw new NonFiniteError(`${flowFile}: the flow produced non-finite draws or log q in ${badRows} of ${n} rows (its weights overflow float32); the file is damaged or its training diverged, so nothing was written`);
      }
      // For a model: the draws on the constrained scale, with Stan's column names.
      const view = target?.constrained;
      const dim = view ? view.names.length : fd;
      const x = view ? view.map(sampled.x, n, { seed }) : sampled.x;
      const names = view ? view.names.map(cmdStanName) : target?.paramNames ?? Array.from({ length: dim }, (_, k) => `x${k + 1}`);
      const logp = target ? Array.from({ length: n }, (_, i) => target.logDensity(sampled.x.subarray(i * fd, (i + 1) * fd))) : null;
      if (logp && n >= 2) {
        const lw = Float64Array.from(logp, (v, i) => (Number.isFinite(v) ? v - logq[i] : -Infinity));
        const outside = logp.filter((v) => !Number.isFinite(v)).length;
        if (outside === n) {
          warnings.push(makeWarning('non-finite', `log p̃ of the target is not finite at any of the ${n} draws: the flow does not match its target`, { count: n }));
        } else {
          const k = psis(lw).paretoK;
          const threshold = paretoKThreshold(n);
          if (!(k <= threshold)) warnings.push(makeWarning('khat', `the log weights have PSIS k-hat ${fmt(k)}, above ${fmt(threshold)} for ${n} draws: importance estimates from them are unreliable`, { khat: k, threshold, n }));
          const ess = kishEss(lw);
          if (ess < 100) warnings.push(makeWarning('low-ess', `Kish ESS of the log weights is ${fmt(ess)} of ${n} draws`, { ess, n }));
          if (outside > 0) warnings.push(makeWarning('non-finite', `log p̃ is not finite at ${outside} of ${n} draws (the flow puts mass outside the support); their log_p is written as -Infinity`, { count: outside, share: outside / n }));
        }
      }
      if (format === 'json') {
        const rows = Array.from({ length: n }, (_, i) => ({
          x: Array.from(x.subarray(i * dim, (i + 1) * dim)),
          log_q: logq[i],
          ...(logp ? { log_p: Number.isFinite(logp[i]) ? logp[i] : null, log_weight: Number.isFinite(logp[i]) ? logp[i] - logq[i] : null } : {}),
        }));
        await writeJsonAtomic(out, { flow: resolve(flowFile), seed, n, dim, paramNames: names, target: doc.target ?? null, draws: rows });
      } else {
        const header = [...names, 'log_q', ...(logp ? ['log_p', 'log_weight'] : [])].join(',');
        const row = (i: number) => {
          const cells = Array.from(x.subarray(i * dim, (i + 1) * dim), (v) => String(v));
          cells.push(String(logq[i]));
          if (logp) cells.push(String(logp[i]), String(Number.isFinite(logp[i]) ? logp[i] - logq[i] : -Infinity));
          return cells.join(',');
        };
        await writeFileAtomic(out, csvChunks([`# flowsampler sample --flow ${flowFile} --n ${n} --seed ${seed}`, header], n, row));
      }
      io.out(`wrote ${n} draws (dim ${dim}) to ${out}`);
      for (const line of formatWarnings(warnings)) io.out(line);
    } finally {
      flow.dispose();
    }
    return warningsExitCode(Boolean(values.strict), warnings.length, io, 'sample');
  },
};
