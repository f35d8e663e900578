/**
 * Long loops (MCMC chains, flow training) run on one JS thread. To let Ctrl-C, progress
 * bars, timers and a worker's stop message run, they call `await coop.tick()` every iteration: it is a counter check
 * almost always, and every `intervalMs` it yields to the event loop, reports progress and
 * throws AbortedError when the signal fired. Cost: ~1 ns per call between yields.
 */
import { AbortedError } from './errors.js';
import { yieldToEventLoop } from './platform.js';

export class Cooperative {
  private calls = 0;
  private last = performance.now();

  constructor(
    private readonly signal?: AbortSignal,
    private readonly onYield?: () => void,
    private readonly intervalMs = 100,
    /** How many calls between clock reads; small for slow iterations (training steps). */
    private readonly checkEvery = 64,
  ) {}

  /** Throws AbortedError if the run was aborted. */
  checkAborted(): void {
    if (this.signal?.aborted) throw new AbortedError('stopped by the user');
  }

  async tick(): Promise<void> {
    if (++this.calls % this.checkEvery !== 0) return;
    const now = performance.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.onYield?.();
    await yieldToEventLoop();
    this.checkAborted();
  }
}
