/**
 * Progress for long work. On a terminal: a cli-progress bar with ETA on stderr. Elsewhere (CI
 * logs, pipes, tests): plain lines, throttled, so logs stay readable. Both are driven by the
 * onProgress callbacks that samplers and training call.
 */
import cliProgress from 'cli-progress';
import type { CommandIO } from './command.js';

export interface Progress {
  /** `done` of `total` units; `phase` is shown beside the label (warmup, sampling, training). */
  update(done: number, total: number, phase?: string): void;
  /** Ends the bar (or prints a final line) with an optional note, e.g. '12.3 s'. */
  stop(note?: string): void;
}

export interface ProgressOptions {
  /** Minimum time between plain lines in ms (default 2000). */
  plainIntervalMs?: number;
}

function fmtEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - 60 * m)).padStart(2, '0')}s`;
}

/** A progress display labelled `label` (e.g. 'banana/nuts'). */
export function createProgress(io: CommandIO, label: string, opts: ProgressOptions = {}): Progress {
  return io.isTTY ? ttyProgress(label) : plainProgress(io, label, opts.plainIntervalMs ?? 2000);
}

function ttyProgress(label: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(22)} {phase} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, phase = '') {
      if (!started) {
        bar.start(Math.max(1, total), 0, { phase: phase.padEnd(8) });
        started = true;
      }
      bar.setTotal(Math.max(1, total));
      bar.update(Math.min(done, total), { phase: phase.padEnd(8) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function plainProgress(io: CommandIO, label: string, intervalMs: number): Progress {
  const t0 = performance.now();
  let last = -Infinity;
  let lastPhase = '';
  return {
    update(done, total, phase = '') {
      const now = performance.now();
      // A phase change is always worth a line; otherwise at most one line per interval.
      if (phase === lastPhase && now - last < intervalMs) return;
      last = now;
      lastPhase = phase;
      const frac = total > 0 ? done / total : 0;
      const elapsed = (now - t0) / 1000;
      const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : NaN;
      io.err(`${label} ${phase ? phase + ' ' : ''}${(100 * frac).toFixed(0)}% (${done}/${total}), ETA ${fmtEta(eta)}`);
    },
    stop(note) {
      const elapsed = (performance.now() - t0) / 1000;
      io.err(`${label} done in ${elapsed.toFixed(1)} s${note ? ` (${note})` : ''}`);
    },
  };
}
