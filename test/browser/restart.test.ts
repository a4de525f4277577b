/**
 * A rolling restart under an open page, in real browsers on Node, Bun and
 * Deno: the server gets SIGTERM mid-stream and exits 0, a new process of the
 * same runtime comes up on the same port, and the page resumes from its last
 * id and shows every message exactly once.
 */
import { describe, expect, it } from 'vitest'
import { freePort, standaloneRuntimes, startServer } from '../support/servers.ts'
import { browserNames, useBrowsers } from './browsers.ts'
import { messagesShown, openDemoPage, waitForFinished, waitForMessageCount } from './demo-page.ts'

const FRAMES = 5 // the default SSE_FRAMES
// Long enough that SIGTERM lands before frame 3, short enough to stay quick.
const env = { SSE_INTERVAL_MS: '300', SSE_RETRY_MS: '300' }

const browserFor = useBrowsers()

describe.for(standaloneRuntimes)('%s', (runtime) => {
  it.for(browserNames)('%s: resumes on the next process after SIGTERM, every message once', async (name, ctx) => {
    const { browser } = browserFor(name, ctx)
    const port = await freePort()
    const old = await startServer(runtime, env, port)
    ctx.onTestFinished(() => old.stop())
    const { page, timeline } = await openDemoPage(browser, old.url, ctx)
    await waitForMessageCount(page, 2)

    // The old process closes the stream between two frames and exits; until
    // the new one listens, the browser's reconnects may be refused, and it
    // keeps retrying.
    old.signal('SIGTERM')
    expect(await old.exited).toBe(0)
    const next = await startServer(runtime, env, port)
    ctx.onTestFinished(() => next.stop())
    ctx.onTestFailed(() => console.log(`old ${runtime}:\n${old.output()}\nnew ${runtime}:\n${next.output()}`))

    await waitForFinished(page)
    expect(await messagesShown(page)).toEqual(Array.from({ length: FRAMES }, (_, i) => `Message ${i + 1}`))
    // The old stream, the resumed one on the new process (from frame 2, or 3
    // or 4 if a frame got out before SIGTERM), and the 204 that ends it.
    expect(timeline.filter((entry) => entry.startsWith('/events '))).toEqual([
      '/events 200',
      expect.stringMatching(/^\/events 200 Last-Event-ID: [234]$/),
      `/events 204 Last-Event-ID: ${FRAMES}`,
    ])
  })
})
