// The candidate worker's entry when flowsampler runs from its TypeScript sources (tests, `tsx`):
// registers tsx's loader in this thread, then loads the worker module. Built installs use
// dist/flows/train/parallel/candidateWorker.js directly.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./candidateWorker.ts');
export default worker.default;
