/** The browser side of test/browser.core.e2e.test.ts: the scenarios on `window`, bundled by esbuild. */
import { flowScenario, nutsScenario } from './scenario.js';

(window as unknown as Record<string, unknown>).flowsamplerTest = { flowScenario, nutsScenario };
document.title = 'ready';
