/**
 * What HTTP/2 buys a page with many streams, in Chromium on Node, Bun and
 * Deno: ten EventSources on one page all start at once over HTTP/2 (one
 * connection, multiplexed), while over HTTP/1.1 the browser's six connections
 * per host make the rest wait until a stream ends.
 */
import type { Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import { makeCert, type TestCert, tlsEnv } from '../support/certs.ts'
import { standaloneRuntimes, startServer } from '../support/servers.ts'
import { CLOCK_ROUNDING_MS } from '../support/timed-read.ts'
import { useBrowsers } from './browsers.ts'
import { openDemoPage, waitForFinished } from './demo-page.ts'

const STREAMS = 10
const FRAMES = 2 // so a stream holds its HTTP/1.1 connection for two intervals
const INTERVAL_MS = 300
const H1_CONNECTIONS = 6 // Chromium's HTTP/1.1 connections per host

// The certificate is self-signed, made for this run.
const browserFor = useBrowsers(['chromium'], { args: ['--ignore-certificate-errors'], acceptInsecureCerts: true })
let cert: TestCert
beforeAll(async () => {
  cert = await makeCert()
})
afterAll(() => cert?.remove())

/** Opens the demo page on a fresh server, then ten more EventSources at once; resolves when all ten got their 204. */
async function openStreams(
  runtime: (typeof standaloneRuntimes)[number],
  env: Record<string, string>,
  ctx: TestContext,
) {
  const { browser } = browserFor('chromium', ctx)
  const server = await startServer(runtime, {
    ...env,
    SSE_FRAMES: String(FRAMES),
    SSE_INTERVAL_MS: String(INTERVAL_MS),
    SSE_RETRY_MS: String(INTERVAL_MS),
  })
  ctx.onTestFinished(() => server.stop())
  ctx.onTestFailed(() => console.log(`${runtime} server output:\n${server.output()}`))
  // On the page's origin, so the sources open its relative `events` as the
  // demo does; its own stream ends first so it holds no connection.
  const { page } = await openDemoPage(browser, server.url, ctx)
  await waitForFinished(page)
  return measure(page)
}

/** When each source got its first message (ms after they were opened), and the protocol of each /events fetch. */
function measure(page: Page): Promise<{ firsts: number[]; protocols: string[] }> {
  return page.evaluate(async (count) => {
    const start = performance.now()
    const sources = Array.from({ length: count }, () => new EventSource('events'))
    const firsts = sources.map(
      (source) =>
        new Promise<number>((resolve) =>
          source.addEventListener('message', () => resolve(performance.now() - start), { once: true }),
        ),
    )
    const closed = sources.map(
      (source) =>
        new Promise<void>((resolve) =>
          source.addEventListener('error', () => {
            if (source.readyState === EventSource.CLOSED) resolve()
          }),
        ),
    )
    const result = await Promise.all(firsts)
    await Promise.all(closed)
    // Each stream's entry is there once it has ended; its 204's may still be on the way.
    const protocols = (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((entry) => new URL(entry.name).pathname === '/events' && entry.startTime >= start)
      .map((entry) => entry.nextHopProtocol)
    return { firsts: result, protocols }
  }, STREAMS)
}

// A stream that has to wait for another to end gets its first message no
// sooner than this after the sources were opened: the other ends FRAMES
// intervals in, and its own first frame is one interval later. Streams that
// started at once are told apart from it by that figure, not by how close
// together they came, which load spreads.
const AFTER_A_WAIT_MS = (FRAMES + 1) * INTERVAL_MS
// Two server timers in a row, each rounded, and Chromium's coarsened clock.
const ROUNDING_MS = 2 * CLOCK_ROUNDING_MS + 1

describe.for(standaloneRuntimes)('%s', (runtime) => {
  it('HTTP/2: ten EventSources on one page all start at once, none waiting for another to end', async (ctx) => {
    const { firsts, protocols } = await openStreams(runtime, tlsEnv(cert), ctx)
    expect(protocols.length).toBeGreaterThanOrEqual(STREAMS)
    expect(new Set(protocols)).toEqual(new Set(['h2']))
    expect(Math.max(...firsts)).toBeLessThan(AFTER_A_WAIT_MS)
  })

  it('HTTP/1.1: streams past the sixth wait until a stream ends', async (ctx) => {
    const { firsts, protocols } = await openStreams(runtime, {}, ctx)
    expect(protocols.length).toBeGreaterThanOrEqual(STREAMS)
    expect(new Set(protocols)).toEqual(new Set(['http/1.1']))
    const sorted = firsts.toSorted((a, b) => a - b)
    expect(sorted[H1_CONNECTIONS - 1]).toBeLessThan(AFTER_A_WAIT_MS)
    expect(sorted[H1_CONNECTIONS]).toBeGreaterThanOrEqual(AFTER_A_WAIT_MS - ROUNDING_MS)
  })
})
