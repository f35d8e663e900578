import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
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
