/**
 * The playground page: reads the form, runs the flow worker and the chains worker
 * (protocol.ts), and shows what they send: progress, the report's figures (rendered here by
 * vega-embed, bundled, no CDN), the CLI's diagnostics table and its warnings. Nothing heavy runs
 * on this thread. `document.body.dataset.state` (loading, idle, running, stopping) tells tests
 * and scripts where the page is.
 */
import { formatWarnings } from '../../src/core/warnings.js';
import type { SummaryRow } from '../../src/report/summaryRow.js';
import type { Figure } from '../../src/report/figure.js';
import { FigureSlot } from './figureSlot.js';
import { renderTable } from './table.js';
import type { FromWorker, RunSettings, TargetChoice, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** How long a stopped run may take to wind down before its worker is restarted. */
const STOP_GRACE_MS = 5000;

const ui = {
  form: $<HTMLFormElement>('controls'),
  expr: $<HTMLTextAreaElement>('expr'),
  targetName: $<HTMLSelectElement>('target-name'),
  targetParams: $<HTMLInputElement>('target-params'),
  targetDescription: $('target-description'),
  run: $<HTMLButtonElement>('run'),
  stop: $<HTMLButtonElement>('stop'),
  error: $('error'),
  flowStatus: $('flow-status'),
  flowProgress: $<HTMLProgressElement>('flow-progress'),
  chainsStatus: $('chains-status'),
  targetInfo: $('target-info'),
  liveFigures: $('live-figures'),
  moreFigures: $('more-figures'),
  table: $<HTMLTableElement>('table'),
  notes: $('notes'),
  backend: $('backend'),
};

type Role = 'flow' | 'chains';

interface Run {
  id: number;
  settings: RunSettings;
  target: TargetChoice;
  order: string[];
  rows: Map<string, SummaryRow>;
  pending: Map<string, string>;
  notes: string[];
  done: Record<Role, boolean>;
  started: number;
  stopping: boolean;
  watchdog: number | undefined;
}

let current: Run | null = null;
let runCounter = 0;
const slots = new Map<string, FigureSlot>();

function setState(state: 'loading' | 'idle' | 'running' | 'stopping'): void {
  document.body.dataset.state = state;
  ui.run.disabled = state !== 'idle';
  ui.stop.disabled = state !== 'running';
}

function showError(message: string): void {
  ui.error.hidden = false;
  const line = document.createElement('div');
  line.textContent = message;
  ui.error.append(line);
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.replaceChildren();
}

/** A worker that can be restarted when it does not stop in time. */
class WorkerHandle {
  worker!: Worker;
  ready = false;
  constructor(
    readonly role: Role,
    private readonly onMessage: (role: Role, m: FromWorker) => void,
  ) {
    this.start();
  }

  private start(): void {
    this.ready = false;
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `flowsampler-${this.role}` });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(this.role, e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      showError(`the ${this.role} worker failed: ${e.message || 'it could not be loaded (is the page served over http, with worker.js and the .wasm files beside it?)'}`);
      if (current) finishRole(current, this.role);
    };
  }

  restart(): void {
    this.worker.terminate();
    this.start();
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}

const workers: Record<Role, WorkerHandle> = {
  flow: new WorkerHandle('flow', onWorkerMessage),
  chains: new WorkerHandle('chains', onWorkerMessage),
};

function intField(id: string, label: string, lo: number, hi: number): number {
  const raw = $<HTMLInputElement>(id).value.trim();
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${label} must be a whole number from ${lo} to ${hi}, got '${raw}'`);
  return v;
}

function checked(name: string): string[] {
  return [...ui.form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function readChoice(): TargetChoice {
  const kind = (ui.form.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'expr') as TargetChoice['kind'];
  if (kind === 'builtin') {
    const params = ui.targetParams.value.trim();
    return { kind, spec: params ? `${ui.targetName.value}:${params}` : ui.targetName.value };
  }
  return { kind, expr: ui.expr.value };
}

function readSettings(): RunSettings {
  return {
    steps: intField('steps', 'training steps', 1, 100_000),
    chains: intField('chains', 'chains', 1, 16),
    draws: intField('draws', 'draws per chain', 10, 100_000),
    seed: intField('seed', 'seed', 0, 2 ** 31 - 1),
    flowSamplers: checked('flow-sampler'),
    chainSamplers: checked('chain-sampler'),
  };
}

function clearFigures(): void {
  for (const s of slots.values()) s.dispose();
  slots.clear();
}

/** Figures in a fixed order: training curve and density panels up top, the rest below the table. */
function rank(id: string): number {
  if (id === 'training') return 0;
  if (id.startsWith('density-')) return 1;
  if (id.startsWith('trace-')) return 2;
  if (id.startsWith('autocorrelation-')) return 3;
  return 4;
}

function showFigures(figs: Figure[]): void {
  for (const fig of figs) {
    let slot = slots.get(fig.id);
    if (!slot) {
      slot = new FigureSlot(fig.id);
      slots.set(fig.id, slot);
      const container = rank(fig.id) <= 1 ? ui.liveFigures : ui.moreFigures;
      const after = [...slots.values()].filter((s) => s !== slot && s.element.parentElement === container && rank(s.id) > rank(fig.id));
      if (after.length) container.insertBefore(slot.element, after[0].element);
      else container.append(slot.element);
    }
    slot.show(fig);
  }
}

function renderRows(run: Run): void {
  renderTable(ui.table, run.order, run.rows, run.pending);
  ui.notes.replaceChildren(
    ...run.notes.map((n) => {
      const li = document.createElement('li');
      li.textContent = n;
      return li;
    }),
  );
}

function startRun(): void {
  clearError();
  let settings: RunSettings;
  try {
    settings = readSettings();
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  const target = readChoice();
  clearFigures();
  const run: Run = {
    id: ++runCounter,
    settings,
    target,
    order: [...settings.flowSamplers, ...settings.chainSamplers],
    rows: new Map(),
    pending: new Map(),
    notes: [],
    done: { flow: false, chains: settings.chainSamplers.length === 0 },
    started: performance.now(),
    stopping: false,
    watchdog: undefined,
  };
  for (const s of settings.flowSamplers) run.pending.set(s, 'waits for the flow');
  for (const s of settings.chainSamplers) run.pending.set(s, 'waiting');
  current = run;
  ui.targetInfo.textContent = '';
  ui.flowStatus.textContent = 'building the target…';
  ui.flowProgress.value = 0;
  ui.flowProgress.max = settings.steps;
  ui.chainsStatus.textContent = '';
  renderRows(run);
  setState('running');
  // The chains start once the flow worker has built the target: a bad expression is reported once.
  workers.flow.post({ type: 'train', run: run.id, target, settings });
}

function stopRun(): void {
  const run = current;
  if (!run || run.stopping) return;
  run.stopping = true;
  setState('stopping');
  ui.flowStatus.textContent = run.done.flow ? ui.flowStatus.textContent : 'stopping…';
  for (const role of ['flow', 'chains'] as const) if (!run.done[role]) workers[role].post({ type: 'stop', run: run.id });
  run.watchdog = window.setTimeout(() => {
    for (const role of ['flow', 'chains'] as const) {
      if (current === run && !run.done[role]) {
        showError(`the ${role} worker did not stop within ${STOP_GRACE_MS / 1000} s; it was restarted`);
        workers[role].restart();
        finishRole(run, role);
      }
    }
  }, STOP_GRACE_MS);
}

function finishRole(run: Run, role: Role): void {
  if (run.done[role]) return;
  run.done[role] = true;
  if (!(run.done.flow && run.done.chains) || current !== run) return;
  window.clearTimeout(run.watchdog);
  for (const s of run.order) if (!run.rows.has(s)) run.pending.set(s, run.stopping ? 'stopped' : 'not run');
  renderRows(run);
  const seconds = ((performance.now() - run.started) / 1000).toFixed(1);
  ui.chainsStatus.textContent = run.settings.chainSamplers.length ? `${ui.chainsStatus.textContent ? ui.chainsStatus.textContent + ' · ' : ''}run finished in ${seconds} s` : `run finished in ${seconds} s`;
  current = null;
  setState(workers.flow.ready && workers.chains.ready ? 'idle' : 'loading');
}

function fillTargets(list: Extract<FromWorker, { type: 'ready' }>['targets']): void {
  if (ui.targetName.options.length > 0) return;
  for (const t of list) {
    const o = document.createElement('option');
    o.value = t.name;
    o.textContent = t.name;
    o.dataset.description = t.description;
    o.dataset.params = t.params.map((p) => `${p.name}=${p.default}`).join(',');
    ui.targetName.append(o);
  }
  describeTarget();
}

function describeTarget(): void {
  const o = ui.targetName.selectedOptions[0];
  if (!o) return;
  ui.targetParams.value = o.dataset.params ?? '';
  ui.targetDescription.textContent = o.dataset.description ?? '';
}

function selectKind(kind: TargetChoice['kind']): void {
  const input = ui.form.querySelector<HTMLInputElement>(`input[name="kind"][value="${kind}"]`);
  if (input) input.checked = true;
}

function onWorkerMessage(role: Role, m: FromWorker): void {
  if (m.type === 'ready') {
    workers[role].ready = true;
    if (role === 'flow') {
      ui.backend.textContent = m.backend;
      fillTargets(m.targets);
    }
    if (!current && workers.flow.ready && workers.chains.ready) setState('idle');
    return;
  }
  const run = current;
  if (!run || m.run !== run.id) {
    // Late messages of a finished run are dropped; a failure outside any run (run 0: the
    // backend did not start) still has to be seen.
    if ((m.type === 'crash' || m.type === 'error') && m.run === 0) showError(`${m.where}: ${m.message}`);
    return;
  }
  switch (m.type) {
    case 'target': {
      ui.targetInfo.textContent = `${m.target.name} · dimension ${m.target.dim}${m.target.exact ? ' · exact sampler (KL column)' : ''} · ${m.target.description}`;
      ui.flowStatus.textContent = 'training the flow…';
      if (run.settings.chainSamplers.length > 0 && !run.stopping) workers.chains.post({ type: 'chains', run: run.id, target: run.target, settings: run.settings });
      else finishRole(run, 'chains');
      break;
    }
    case 'training': {
      ui.flowProgress.max = m.total;
      ui.flowProgress.value = m.step;
      ui.flowStatus.textContent = `training the flow: step ${m.step} of at most ${m.total} · ${m.stepsPerSec.toFixed(0)} steps/s · ELBO (moving average) ${Number.isFinite(m.elboMA) ? m.elboMA.toFixed(3) : '-'}`;
      for (const s of run.settings.flowSamplers) run.pending.set(s, `waits for the flow (step ${m.step})`);
      renderRows(run);
      break;
    }
    case 'trained': {
      ui.flowProgress.max = m.total;
      ui.flowProgress.value = m.steps;
      const why: Record<string, string> = {
        usable: 'stopped early: the flow is a usable proposal (k-hat and ESS checks)',
        steps: 'ran every step',
        plateau: 'stopped: the ELBO stopped improving',
        time: 'stopped: time budget',
        abort: 'stopped by the user: the flow is kept as it was',
      };
      ui.flowStatus.textContent = `flow trained: ${m.steps} steps of at most ${m.total} in ${m.seconds.toFixed(1)} s (${why[m.stoppedBy] ?? m.stoppedBy})`;
      run.notes.push(...m.warnings);
      renderRows(run);
      break;
    }
    case 'sampler': {
      const pct = m.total > 0 ? Math.round((100 * m.done) / m.total) : 0;
      run.pending.set(m.sampler, `running: ${m.phase} ${pct} %`);
      if (role === 'chains') ui.chainsStatus.textContent = `${m.sampler}: ${m.phase} ${pct} %`;
      renderRows(run);
      break;
    }
    case 'row': {
      run.rows.set(m.row.sampler, m.row);
      run.pending.delete(m.row.sampler);
      run.notes.push(...formatWarnings(m.row.warnings ?? [], m.row.sampler), ...m.notes);
      if (role === 'chains') {
        ui.chainsStatus.textContent = `${m.row.sampler}: ${m.row.error ? (m.row.error.startsWith('stopped') ? 'stopped' : 'failed') : 'done'}`;
        if (m.draws) workers.flow.post({ type: 'result', run: run.id, draws: m.draws, row: m.row });
      }
      renderRows(run);
      break;
    }
    case 'figures':
      showFigures(m.figures);
      break;
    case 'error': {
      showError(m.where === 'target' ? m.message : `${m.where}: ${m.message}`);
      if (m.where === 'target') {
        ui.flowStatus.textContent = 'no run: fix the target';
        ui.flowProgress.value = 0;
        run.order = [];
        renderRows(run);
        finishRole(run, 'chains');
      } else if (m.where === 'training') {
        ui.flowStatus.textContent = 'flow training failed';
      }
      break;
    }
    case 'crash': {
      showError(`internal error in the ${m.where} worker: ${m.message} (the console has the details)`);
      console.error(`flowsampler ${m.where} worker: ${m.stack || m.message}`);
      break;
    }
    case 'done':
      finishRole(run, role);
      break;
  }
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (document.body.dataset.state === 'idle') startRun();
});
ui.stop.addEventListener('click', stopRun);
ui.targetName.addEventListener('change', () => {
  selectKind('builtin');
  describeTarget();
});
ui.targetParams.addEventListener('input', () => selectKind('builtin'));
ui.expr.addEventListener('input', () => selectKind('expr'));
ui.expr.addEventListener('keydown', (e) => {
  // Ctrl/Cmd+Enter runs, as in a notebook.
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    ui.form.requestSubmit();
  }
});
setState('loading');
