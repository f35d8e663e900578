import { resolve, dirname } from 'node:path';
import { readFlowArg, sameFile } from '../flowFileArg.js';
import { parseCommandArgs, numberOption, UsageError, type Command } from '../command.js';
import { ensureOutputDir } from '../outputDir.js';
import { createProgress } from '../progress.js';
import { readDataFiles } from '../dataFiles.js';
import { writeFileAtomic } from '../../core/atomicWrite.js';
import { initBackend } from '../../core/backend.js';
import { AbortedError, ParseError } from '../../core/errors.js';
import { yieldToEventLoop } from '../../core/platform.js';
import { fmt, pct } from '../../core/warnings.js';
import { flowFromJSON, type SavedFlow } from '../../flows/serialize.js';
import { quantileFromTable } from '../../flows/train/anomaly.js';
import { strictHelp, strictOption, warningsExitCode } from '../exitCodes.js';

interface FitMeta {
  columns: string[];
  quantiles: (number | null)[];
  quantile: number;
}

/** What `fit` saved: the data's columns and the log-density quantiles of its rows. */
function fitMeta(doc: SavedFlow, file: string): FitMeta {
  const cols = (doc.target as { data?: { columns?: unknown } } | undefined)?.data?.columns;
  const tr = doc.training as { anomaly?: { quantile?: unknown }; logDensityQuantiles?: unknown } | undefined;
  if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string') || !Array.isArray(tr?.logDensityQuantiles)) {
    throw new UsageError(`--flow ${file}: the flow was not fitted to data by 'flowsampler fit' (it names no data columns or anomaly quantiles)`);
  }
  const q = typeof tr!.anomaly?.quantile === 'number' ? tr!.anomaly.quantile : 0.01;
  return { columns: cols as string[], quantiles: tr!.logDensityQuantiles as (number | null)[], quantile: q };
}

export const scoreCommand: Command = {
  name: 'score',
  summary: "write the log density of each data row under a fitted flow and flag anomalies",
  help: `usage: flowsampler score --flow FLOW.json DATA.csv [MORE.csv ...] --out SCORES.csv [options]

Scores each row of DATA.csv under a flow saved by 'flowsampler fit': its log density on the
data's scale, and whether it is an anomaly, i.e. below the chosen quantile of the log densities
of the rows the flow was fitted to (saved with the flow at fit time). The columns are read by
the names the flow was fitted on, in any order; other columns are ignored.

  --flow FILE         the fitted flow (required)
  --out FILE          output CSV (default scores.csv): row,log_density,anomaly
  --quantile Q        anomaly threshold as a quantile of the fitted data's log densities
                      (default: the one chosen at fit time, 0.01 unless --anomaly-quantile)
  --drop-missing      skip rows with a missing value (their row numbers are left out)
${strictHelp}
  -h, --help          this help

'row' is the 1-based data row of the input (after the header, and across files in order).`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'score',
      argv,
      {
        flow: { type: 'string' },
        out: { type: 'string' },
        quantile: { type: 'string' },
        'drop-missing': { type: 'boolean' },
        ...strictOption,
      },
      true,
    );
    const flowFile = values.flow as string | undefined;
    if (!flowFile) throw new UsageError("missing --flow FILE (see 'flowsampler score --help')");
    const out = resolve((values.out as string | undefined) ?? 'scores.csv');
    if (await sameFile(out, flowFile)) throw new UsageError(`--out ${values.out as string} is the --flow file itself; writing scores there would destroy the flow`);
    for (const p of positionals) if (await sameFile(out, p)) throw new UsageError(`--out ${values.out as string} is one of the data files; writing scores there would destroy the data`);
    const doc = await readFlowArg(flowFile);
    const meta = fitMeta(doc, flowFile);
    const q = numberOption('quantile', values.quantile as string | undefined, meta.quantile, (v) => v > 0 && v < 1, 'in (0, 1)');
    const threshold = quantileFromTable(meta.quantiles as number[], q);
    const table = readDataFiles(positionals, { columns: meta.columns, dropMissing: values['drop-missing'] === true }, 'score');
    await ensureOutputDir(dirname(out), '--out');
    await initBackend();
    const flow = flowFromJSON(doc, flowFile);
    try {
      if (flow.dim !== meta.columns.length) throw new ParseError(`the flow has dim ${flow.dim} but names ${meta.columns.length} data columns`, undefined, flowFile);
      const n = table.rows;
      const d = flow.dim;
      const lq = new Float64Array(n);
      const progress = createProgress(io, 'score');
      const chunk = 8192;
      for (let s = 0; s < n; s += chunk) {
        if (io.signal.aborted) {
          progress.stop('interrupted');
          throw new AbortedError('stopped by the user');
        }
        const m = Math.min(chunk, n - s);
        lq.set(flow.logProbArrays(table.values.subarray(s * d, (s + m) * d)), s);
        progress.update(s + m, n, 'scoring');
        await yieldToEventLoop();
      }
      progress.stop();
      let flagged = 0;
      let nonFinite = 0;
      const lines: string[] = ['row,log_density,anomaly'];
      for (let i = 0; i < n; i++) {
        const v = lq[i];
        const anomalous = !(v >= threshold);
        if (anomalous) flagged++;
        if (!Number.isFinite(v)) nonFinite++;
        lines.push(`${table.rowIds[i]},${Number.isFinite(v) ? String(v) : v === -Infinity ? '-inf' : 'nan'},${anomalous ? 1 : 0}`);
      }
      await writeFileAtomic(out, lines.join('\n') + '\n');
      io.out(`scored ${n} rows of ${meta.columns.join(', ')}${table.droppedRows ? ` (${table.droppedRows} rows with missing values skipped)` : ''}`);
      io.out(`${flagged} anomalies (${pct(flagged / n)}): log density below ${fmt(threshold)}, the ${q} quantile of the fitted data's`);
      if (nonFinite > 0) io.out(`warning [non-finite]: the log density is not finite at ${nonFinite} rows (far outside the data: counted as anomalies)`);
      io.out(`wrote ${out}`);
      return warningsExitCode(values.strict === true, nonFinite > 0 ? 1 : 0, io, 'score');
    } finally {
      flow.dispose();
    }
  },
};
