/**
 * The messages between the playground page (main.ts) and its two workers (worker.ts): the flow
 * worker trains the flow, runs the flow samplers and builds every figure (it holds all draws);
 * the chains worker runs the classical samplers. Each run has an id so that late messages of a
 * stopped run are ignored. Everything here is structured-clone data (typed arrays included).
 */
import type { Draws } from '../../src/core/draws.js';
import type { Figure } from '../../src/report/figure.js';
import type { SummaryRow } from '../../src/report/summaryRow.js';

/** What the user chose: a built-in target spec (`banana`, `ring:modes=6`) or a mathjs expression of log p̃. */
export type TargetChoice = { kind: 'builtin'; spec: string } | { kind: 'expr'; expr: string };

export interface RunSettings {
  seed: number;
  chains: number;
  /** Post-warm-up draws per chain. */
  draws: number;
  /** Maximum flow training steps (training stops earlier once the flow is a usable proposal). */
  steps: number;
  /** The flow samplers to run after training (from the CLI's registry: iaf, imh). */
  flowSamplers: string[];
  /** The classical samplers the chains worker runs (nuts, hmc, rwm, mala, rejection). */
  chainSamplers: string[];
}

export type ToWorker =
  | { type: 'train'; run: number; target: TargetChoice; settings: RunSettings }
  | { type: 'chains'; run: number; target: TargetChoice; settings: RunSettings }
  /** To the flow worker: a classical sampler's draws and row, for the figures. */
  | { type: 'result'; run: number; draws: Draws; row: SummaryRow }
  | { type: 'stop'; run: number };

export interface TargetSummary {
  name: string;
  dim: number;
  description: string;
  exact: boolean;
}

export type FromWorker =
  /** Once, when tfjs is ready: the backend and the built-in targets (for the picker). */
  | { type: 'ready'; backend: string; targets: { name: string; description: string; params: { name: string; default: number | string; description: string }[] }[] }
  | { type: 'target'; run: number; target: TargetSummary }
  | { type: 'training'; run: number; step: number; total: number; loss: number; elboMA: number; stepsPerSec: number; phase?: string }
  | { type: 'trained'; run: number; steps: number; total: number; stoppedBy: string; seconds: number; warnings: string[] }
  | { type: 'sampler'; run: number; sampler: string; done: number; total: number; phase: string }
  /** A finished sampler (its row for the table); the chains worker also sends its draws. */
  | { type: 'row'; run: number; row: SummaryRow; draws?: Draws; notes: string[] }
  /** The figures to show now; `live` while the flow trains (density and training curve only). */
  | { type: 'figures'; run: number; figures: Figure[]; live: boolean }
  | { type: 'done'; run: number }
  /** A user error (bad expression, a sampler that failed): shown in the page. */
  | { type: 'error'; run: number; where: string; message: string }
  /** A bug: the message in the page, the stack on the console. */
  | { type: 'crash'; run: number; where: string; message: string; stack: string };
