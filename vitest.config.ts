import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// One project per place the code runs: plain Node for the pure parts, workerd
// for the Worker, real servers of every runtime over HTTP, topics on a real
// Redis, a slow idle check, a real browser, and the package as users install it.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: { SSE_INTERVAL_MS: '20' } },
          }),
        ],
        test: { name: 'workerd', include: ['test/workerd/**/*.test.ts'] },
      },
      {
        test: {
          name: 'runtimes',
          include: ['test/runtimes/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Topics on a real redis-server started by the tests: the library, and
        // clusters of Node, Bun and Deno servers on one Redis.
        test: { name: 'redis', include: ['test/redis/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
      },
      {
        // Waits out a 12 s silent gap on every runtime, side by side.
        test: { name: 'slow', include: ['test/slow/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        // The npm tarball as users install it, packed once: its files, its types
        // in a strict project, JSR, and the README's consumer code on every runtime.
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/package/setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
