/**
 * `npm run bench`: the micro benches (benchmark.js: normals/s, log-density evaluations/s,
 * samplers, diagnostics, flow training steps) and the macro bench (bench/macro.ts), each
 * written to bench/results/<name>.json atomically with the machine and versions.
 *
 *   npm run bench                 everything
 *   npm run bench -- macro flows  only these
 *   npm run bench -- --quick      shorter runs (smoke test)
 */
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeJsonAtomic } from '../src/core/atomicWrite.js';
import { mkdir } from 'node:fs/promises';
import { machineInfo, versionInfo } from '../src/cli/runInfo.js';
import { initBackend } from '../src/core/backend.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes bench/results/<name>.json with the machine and versions beside the numbers. */
export async function writeResults(name: string, results: unknown, seconds?: number): Promise<string> {
  await mkdir(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  await writeJsonAtomic(file, { bench: name, date: new Date().toISOString(), seconds, machine: machineInfo(), versions: versionInfo(), results });
  return file;
}

type Bench = { name: string; run: (quick: boolean) => Promise<unknown> };

/** Each bench is loaded only when run, so one missing or broken module does not stop the rest. */
const BENCHES: Bench[] = [
  { name: 'normals', run: async (q) => (await import('./normals.js')).benchNormals({ maxTime: q ? 0.5 : 2 }) },
  { name: 'targets', run: async (q) => (await import('./targets.js')).benchTargets({ maxTime: q ? 0.5 : 2 }) },
  { name: 'samplers', run: async (q) => (await import('./samplers.js')).benchSamplers({ draws: q ? 500 : 5000 }) },
  { name: 'diagnostics', run: async () => (await import('./diagnostics.js')).benchDiagnostics() },
  { name: 'flows', run: async (q) => (await import('./flows.js')).benchFlows({ blocks: q ? 3 : 7, ...(q ? { sweep: false, families: false } : {}), log: (l) => console.log(l) }) },
  { name: 'engineChoices', run: async (q) => (await import('./engineChoices.js')).benchEngineChoices({ blocks: q ? 3 : 7, log: (l) => console.log(l) }) },
  { name: 'flowDirections', run: async (q) => (await import('./flowDirections.js')).benchFlowDirections({ quick: q, log: (l) => console.log(l) }) },
  { name: 'timeToProposal', run: async (q) => (await import('./timeToProposal.js')).benchTimeToProposal({ ...(q ? { seeds: [1], targets: ['banana2d'] } : {}), log: (l) => console.log(l) }) },
  { name: 'checks', run: async (q) => (await import('./checks.js')).benchChecks({ quick: q }) },
  { name: 'macro', run: async (q) => (await import('./macro.js')).benchMacro({ quick: q }) },
  { name: 'models', run: async (q) => (await import('./models.js')).benchModels({ seconds: q ? 0.3 : 2 }) },
  { name: 'posteriors', run: async (q) => (await import('./posteriors.js')).benchPosteriors(q ? { names: ['eight_schools_noncentered'], steps: 200 } : {}) },
  { name: 'coverage', run: async (q) => (await import('./coverage.js')).benchCoverage({ quick: q }) },
  { name: 'smc', run: async (q) => (await import('./smc.js')).benchSmc({ quick: q }) },
  { name: 'density', run: async (q) => (await import('./density.js')).benchDensity({ quick: q }) },
  // Long: reverse KL, mode-covering and auto on the 7 targets with known modes, 5 seeds (bench/modeCovering.ts).
  { name: 'modeCovering', run: async (q) => (await import('./modeCovering.js')).benchModeCovering({ quick: q, log: (l) => console.log(l) }) },
  { name: 'parallel', run: async (q) => (await import('./parallel.js')).benchParallel({ quick: q }) },
  { name: 'residual', run: async (q) => (await import('./residual.js')).benchResidual({ quick: q }) },
  { name: 'multiscale', run: async (q) => (await import('./multiScale.js')).benchMultiScale({ quick: q }) },
  { name: 'flowMcmc', run: async (q) => (await import('./flowMcmc.js')).benchFlowMcmc({ quick: q, log: (l) => console.log(l) }) },
  // Needs Rscript with rstan (skipped without); the first run compiles the Stan program.
  { name: 'stanNuts', run: async (q) => (await import('./stanNuts.js')).benchStanNuts(q ? { seeds: [1] } : {}) },
];

export async function runBenches(names: string[], quick: boolean): Promise<number> {
  await initBackend();
  const m = machineInfo();
  console.log(`flowsampler bench on ${m.cpuModel} x ${m.cpuCount}, ${m.memoryGB} GB, Node ${process.version}${quick ? ' (quick)' : ''}`);
  let failures = 0;
  for (const b of BENCHES.filter((x) => names.length === 0 || names.includes(x.name))) {
    console.log(`\n== ${b.name}`);
    const t0 = performance.now();
    try {
      const res = await b.run(quick);
      const seconds = (performance.now() - t0) / 1000;
      if (b.name !== 'macro' && b.name !== 'flows') console.log(JSON.stringify(res, null, 2));
      console.log(`${b.name}: ${seconds.toFixed(1)} s -> ${await writeResults(b.name, res, seconds)}`);
    } catch (e) {
      failures++;
      console.error(`${b.name}: failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`bench: unknown bench ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);
    process.exit(2);
  }
  process.exitCode = (await runBenches(names, quick)) > 0 ? 1 : 0;
}
