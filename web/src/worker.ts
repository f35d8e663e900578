/**
 * The playground's Web Worker (the page starts two: one trains the flow and draws the figures,
 * one runs the classical chains), so that the page stays responsive. tfjs-backend-wasm fetches
 * its .wasm files from beside this script (web/build.ts copies them there). The long loops
 * yield to the event loop (src/core/cooperative.ts), so a 'stop' message is read mid-run and
 * aborts the run's AbortSignal.
 */
import { backendInfo, FlowsamplerError, initBackend, listTargets } from '../../src/index.js';
import { runChains } from './chainsRun.js';
import { runFlow, type FlowRun } from './flowRun.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker) => scope.postMessage(m);

let flowRun: FlowRun | null = null;
let chains: { run: number; stop: AbortController } | null = null;

/** A user error becomes a message in the page; anything else is a bug: its stack goes along. */
function reportFailure(run: number, where: string, e: unknown): void {
  if (e instanceof FlowsamplerError) post({ type: 'error', run, where, message: e.message });
  else post({ type: 'crash', run, where, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? (e.stack ?? '') : '' });
}

const ready = initBackend().then(() =>
  post({ type: 'ready', backend: backendInfo()?.name ?? 'unknown', targets: listTargets().map((t) => ({ ...t, params: t.params.map((p) => ({ name: p.name, default: p.default, description: p.description })) })) }),
);

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'train': {
      flowRun?.stop.abort();
      const run: FlowRun = { run: m.run, stop: new AbortController(), hub: null, trained: false };
      flowRun = run;
      try {
        await ready;
        await runFlow(run, m.target, m.settings, post);
      } catch (e) {
        reportFailure(m.run, 'flow', e);
      } finally {
        post({ type: 'done', run: m.run });
      }
      return;
    }
    case 'chains': {
      chains?.stop.abort();
      const c = { run: m.run, stop: new AbortController() };
      chains = c;
      try {
        await ready;
        await runChains(m.run, c.stop.signal, m.target, m.settings, post);
      } catch (e) {
        reportFailure(m.run, 'chains', e);
      } finally {
        post({ type: 'done', run: m.run });
      }
      return;
    }
    case 'result': {
      const hub = flowRun?.run === m.run ? flowRun.hub : null;
      if (!hub) return;
      hub.addDraws(m.draws);
      hub.addRow(m.row);
      // While training, the next live update shows them; afterwards, show them now.
      if (flowRun!.trained) {
        try {
          post({ type: 'figures', run: m.run, figures: hub.figures(false), live: false });
        } catch (e) {
          reportFailure(m.run, 'figures', e);
        }
      }
      return;
    }
    case 'stop': {
      if (flowRun?.run === m.run) flowRun.stop.abort();
      if (chains?.run === m.run) chains.stop.abort();
      return;
    }
  }
}

scope.onmessage = (e) => {
  void handle(e.data);
};
ready.catch((e) => reportFailure(0, 'backend', e));
