import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // Example model files import the package by name; in tests that name is the source tree.
  resolve: { alias: { flowsampler: new URL('./src/index.ts', import.meta.url).pathname } },
  test: {
    include: ['test/**/*.test.ts'],
    // test/quality holds the slow quality-bar check (minutes per seed): `npm run test:quality`
    // runs it, `npm test` does not.
    exclude: [...configDefaults.exclude, ...(process.env.FLOWSAMPLER_QUALITY === '1' ? [] : ['test/quality/**'])],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so stochastic-but-seeded tests stay fast and stable.
    maxWorkers: 2,
  },
});
