/** The CLI from the TypeScript sources, for tests that need it as its own process (`node --import tsx`). */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
