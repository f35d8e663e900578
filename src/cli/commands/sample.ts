import { resolve, dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseCommandArgs, intOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { writeFileAtomic, writeJsonAtomic } from '../../core/atomicWrite.js';
import { ParseError } from '../../core/errors.js';
import { initBackend } from '../../core/backend.js';
import { flowFromJSON, type SavedFlow } from '../../flows/index.js';
import { parseTargetSpec } from '../../targets/registry.js';
import { expressionTarget } from '../../targets/expression.js';
import type { Target } from '../../targets/target.js';
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
  --out FILE         output file, .csv or .json (default draws.csv)
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('sample', argv, {
      flow: { type: 'string' },
      model: { type: 'string' },
      data: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    });
    const flowFile = values.flow as string | undefined;
    if (!flowFile) throw new UsageError("missing --flow FILE (see 'flowsampler sample --help')");
    const n = intOption('n', values.n as string | undefined, 1000, 1);
    const seedRaw = (values.seed as string | undefined) ?? '1';
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const out = resolve((values.out as string | undefined) ?? 'draws.csv');
    const format = out.endsWith('.json') ? 'json' : out.endsWith('.csv') ? 'csv' : null;
    if (!format) throw new UsageError(`--out must end in .csv or .json, got '${values.out as string}'`);
    let text: string;
    try {
      text = await readFile(flowFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--flow ${flowFile}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let doc: SavedFlow;
    try {
      doc = JSON.parse(text) as SavedFlow;
    } catch {
      throw new ParseError('not a JSON flow file', undefined, flowFile);
    }
    await ensureOutputDir(dirname(out), '--out');
    await initBackend();
    const flow = flowFromJSON(doc, flowFile);
    try {
      const target = await targetOfSavedFlow(doc, values.model as string | undefined, values.data as string | undefined);
      if (target && target.dim !== flow.dim) throw new UsageError(`the flow has dim ${flow.dim} but target ${target.name} has dim ${target.dim}`);
      const sampled = flow.sampleArrays(n, seed);
      const { logq } = sampled;
      const view = target?.constrained;
      const dim = view ? view.names.length : flow.dim;
      const x = view ? view.map(sampled.x, n, { seed }) : sampled.x;
      const names = view ? view.names.map(cmdStanName) : target?.paramNames ?? Array.from({ length: dim }, (_, k) => `x${k + 1}`);
      const fd = flow.dim;
      const logp = target ? Array.from({ length: n }, (_, i) => target.logDensity(sampled.x.subarray(i * fd, (i + 1) * fd))) : null;
      if (format === 'json') {
        const rows = Array.from({ length: n }, (_, i) => ({
          x: Array.from(x.subarray(i * dim, (i + 1) * dim)),
          log_q: logq[i],
          ...(logp ? { log_p: Number.isFinite(logp[i]) ? logp[i] : null, log_weight: Number.isFinite(logp[i]) ? logp[i] - logq[i] : null } : {}),
        }));
        await writeJsonAtomic(out, { flow: resolve(flowFile), seed, n, dim, paramNames: names, target: doc.target ?? null, draws: rows });
      } else {
        const header = [...names, 'log_q', ...(logp ? ['log_p', 'log_weight'] : [])].join(',');
        const lines = [`# flowsampler sample --flow ${flowFile} --n ${n} --seed ${seed}`, header];
        for (let i = 0; i < n; i++) {
          const cells = Array.from(x.subarray(i * dim, (i + 1) * dim), (v) => String(v));
          cells.push(String(logq[i]));
          if (logp) cells.push(String(logp[i]), String(logp[i] - logq[i]));
          lines.push(cells.join(','));
        }
        await writeFileAtomic(out, lines.join('\n') + '\n');
      }
      io.out(`wrote ${n} draws (dim ${dim}) to ${out}`);
    } finally {
      flow.dispose();
    }
    return 0;
  },
};
