import { join, resolve } from 'node:path';
import { readFlowArg } from '../flowFileArg.js';
import { parseCommandArgs, intOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { writeJsonAtomic } from '../../core/atomicWrite.js';
import { initBackend } from '../../core/backend.js';
import { flowFromJSON, type SavedFlow } from '../../flows/index.js';
import { parseTargetSpec } from '../../targets/registry.js';
import { expressionTarget } from '../../targets/expression.js';
import type { Target } from '../../targets/target.js';
import { defaultParamNames } from '../../core/draws.js';
import { warmStart } from '../../samplers/warmStart.js';
import { cmdstanChainFile, cmdstanInits, cmdstanMetric } from '../../io/cmdstanJson.js';
import { protectExprValue, targetFromArgs, targetOptionHelp, targetOptions } from '../targetArgs.js';
import { versionInfo } from '../runInfo.js';

function targetOfSavedFlow(doc: SavedFlow): Target | null {
  const t = doc.target as { spec?: string | null; expression?: string | null } | undefined;
  if (t?.spec) return parseTargetSpec(t.spec);
  if (t?.expression) return expressionTarget(t.expression);
  return null;
}

export const warmstartCommand: Command = {
  name: 'warmstart',
  summary: 'starting points and a dense metric for HMC/NUTS (and CmdStan) from a saved flow',
  help: `usage: flowsampler warmstart --flow FILE [--target SPEC | --expr "EXPR"] --out DIR [options]

Weights flow draws against the target (PSIS), resamples one starting point per chain and
estimates a dense inverse metric from the weighted draws. Writes CmdStan files:

  DIR/inits_1.json ... inits_N.json   one per chain: { "x": [...] } in the target's parameter order
  DIR/metric.json                     { "inv_metric": [[...], ...] } for metric=dense_e
  DIR/warmstart.json                  k-hat, ESS, the warm-up rule, parameter names

and prints the CmdStan arguments that use them (init=DIR/inits.json num_chains=N: CmdStan
appends the chain id). The target defaults to the one named in the flow file.

  --flow FILE        a flow saved by 'flowsampler train' (required)
${targetOptionHelp}
  --chains N         chains (default 4)
  --n N              flow draws to weight (default 10000)
  --seed S           seed (default 1)
  --out DIR          output directory (required)
  --stan-name NAME   the Stan vector parameter holding the point (default x)
  --scalars          one scalar per parameter name instead of one vector
  -h, --help         this help`,
  async run(argv, io) {
    const { values } = parseCommandArgs('warmstart', protectExprValue(argv), {
      flow: { type: 'string' },
      ...targetOptions,
      chains: { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'stan-name': { type: 'string' },
      scalars: { type: 'boolean' },
    });
    const flowFile = values.flow as string | undefined;
    if (!flowFile) throw new UsageError("missing --flow FILE (see 'flowsampler warmstart --help')");
    const outRaw = values.out as string | undefined;
    if (!outRaw) throw new UsageError("missing --out DIR (see 'flowsampler warmstart --help')");
    const chains = intOption('chains', values.chains as string | undefined, 4, 1);
    const n = intOption('n', values.n as string | undefined, 10_000, 2);
    if (n < chains) throw new UsageError(`--n ${n} flow draws cannot start ${chains} chains`);
    const seedRaw = (values.seed as string | undefined) ?? '1';
    const seed = /^-?\d+$/.test(seedRaw) ? Number(seedRaw) : seedRaw;
    const stanName = (values['stan-name'] as string | undefined) ?? 'x';
    if (values.scalars && values['stan-name'] !== undefined) throw new UsageError('give --stan-name or --scalars, not both');
    const doc = await readFlowArg(flowFile);
    const target = values.target !== undefined || values.expr !== undefined ? targetFromArgs(values, 'warmstart').target : targetOfSavedFlow(doc);
    if (!target) throw new UsageError(`${flowFile} names no target: give --target SPEC or --expr "EXPR"`);
    const outDir = await ensureOutputDir(outRaw, '--out');
    await initBackend();
    const flow = flowFromJSON(doc, flowFile);
    try {
      if (flow.dim !== target.dim) throw new UsageError(`the flow has dim ${flow.dim}, target ${target.name} has dim ${target.dim}`);
      const ws = warmStart(flow, target, { seed, chains, n });
      const names = target.paramNames ?? defaultParamNames(target.dim);
      const layout = values.scalars ? ({ kind: 'scalars' } as const) : ({ kind: 'vector', name: stanName } as const);
      // Build everything first, so a bad name or value writes nothing.
      const inits = ws.inits.map((x) => cmdstanInits(x, names, layout));
      const metric = cmdstanMetric(ws.invMetric, target.dim);
      const files: string[] = [];
      for (let c = 0; c < chains; c++) {
        const f = join(outDir, cmdstanChainFile('inits.json', c + 1));
        await writeJsonAtomic(f, inits[c]);
        files.push(f);
      }
      await writeJsonAtomic(join(outDir, 'metric.json'), metric);
      await writeJsonAtomic(join(outDir, 'warmstart.json'), {
        flow: resolve(flowFile),
        target: { name: target.name, dim: target.dim, params: target.params },
        paramNames: names,
        layout: values.scalars ? 'scalars' : { vector: stanName },
        chains,
        n,
        seed,
        paretoK: Number.isFinite(ws.paretoK) ? ws.paretoK : null,
        kishEss: ws.kishEss,
        warmup: ws.rule.warmup,
        adaptMetric: ws.rule.adaptMetric,
        rule: ws.rule.reason,
        warnings: ws.warnings,
        versions: versionInfo(),
      });
      io.out(`warm start for ${target.name} (dim ${target.dim}) from ${n} flow draws: k-hat ${ws.paretoK.toFixed(2)}, ESS ${Math.round(ws.kishEss)}`);
      io.out(`rule: ${ws.rule.reason} -> warm-up ${ws.rule.warmup}${ws.rule.adaptMetric ? ' (metric adapted)' : ' (metric kept)'}`);
      for (const w of ws.warnings) io.err(`warning: ${w}`);
      io.out(`wrote ${files.length} inits files, metric.json and warmstart.json to ${outDir}`);
      io.out(
        `CmdStan: sample num_warmup=${ws.rule.warmup} algorithm=hmc metric=dense_e metric_file=${join(outDir, 'metric.json')} ` +
          `init=${join(outDir, 'inits.json')} num_chains=${chains}`,
      );
    } finally {
      flow.dispose();
    }
    return 0;
  },
};
