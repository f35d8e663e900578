// The pool's worker entry when flowsampler runs from its TypeScript sources (tests, `tsx`):
// registers tsx's loader in this thread, then loads the worker module. Installed builds use
// dist/study/poolWorker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./poolWorker.ts');
export default worker.default;
