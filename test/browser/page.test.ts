/**
 * The page in real browsers (Chromium, Firefox) against each runtime's real
 * server: messages arrive one by one, the browser reconnects once, gets 204
 * and stops for good.
 */
import { mkdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { ScreenshotOptions } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, runtimes, startServer } from '../support/servers.ts'
import { CLOCK_ROUNDING_MS } from '../support/timed-read.ts'
import { browserNames, useBrowsers } from './browsers.ts'
import { messagesShown, openDemoPage, statesSeen, waitForFinished, waitForMessageCount } from './demo-page.ts'

const FRAMES = 5 // the default SSE_FRAMES
const INTERVAL_MS = 100
const RETRY_MS = 300
// The server's rounding, and the page's: it shows Math.round(performance.now()),
// which Firefox coarsens to 1 ms.
const PAGE_CLOCK_ROUNDING_MS = CLOCK_ROUNDING_MS + 2
const artifacts = fileURLToPath(new URL('../../artifacts/', import.meta.url))
mkdirSync(artifacts, { recursive: true })

const browserFor = useBrowsers()

describe.for(runtimes)('%s', (runtime) => {
  // One server per runtime for both browsers: each page has its own streams.
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(runtime, { SSE_INTERVAL_MS: String(INTERVAL_MS), SSE_RETRY_MS: String(RETRY_MS) })
  })
  afterAll(() => server?.stop())

  it.for(browserNames)('%s: shows every message, reconnects once, then finishes', async (name, ctx) => {
    const { browser, minRetryMs, emulatesColorScheme, reportsAfterEnd } = browserFor(name, ctx)
    ctx.onTestFailed(() => console.log(`${runtime} server output:\n${server.output()}`))
    const { page, streams, timeline } = await openDemoPage(browser, server.url, ctx)

    const expected = Array.from({ length: FRAMES }, (_, i) => `Message ${i + 1}`)
    await waitForMessageCount(page, FRAMES)
    expect(await messagesShown(page)).toEqual(expected)
    await waitForFinished(page)
    expect(await statesSeen(page)).toEqual(['open', 'reconnecting', 'finished'])
    expect(await page.$eval('#last-id', (el) => el.textContent)).toBe(String(FRAMES))
    expect(await page.$eval('#reconnects', (el) => el.textContent)).toBe('1')

    // Each message shows when it arrived: message k no sooner than k intervals
    // after the page opened (its stream starts later), and not all at once (a
    // buffering server or proxy would deliver them together). Not by the gaps
    // between them: under load a frame leaves late and the next catches up.
    const items = await page.$$eval('#messages li', (els) =>
      els.map((el) => ({
        id: (el as HTMLElement).dataset.id,
        at: Number((el as HTMLElement).dataset.at),
        shown: el.querySelector('.at')?.textContent,
      })),
    )
    expect(items.map((item) => item.id)).toEqual(expected.map((_, i) => String(i + 1)))
    for (const item of items) expect(item.shown).toMatch(/^\+\d+\.\d\d s$/)
    for (const [i, item] of items.entries()) {
      expect(item.at).toBeGreaterThanOrEqual((i + 1) * INTERVAL_MS - PAGE_CLOCK_ROUNDING_MS)
    }
    expect(items[0].at).toBeLessThan(items[FRAMES - 1].at)

    // The one deliberate sleep: 204 must end reconnecting for good. Three
    // reconnect periods of this browser (Firefox waits longer than retry:).
    await sleep(3 * Math.max(RETRY_MS, minRetryMs))
    expect(streams).toHaveLength(2)

    // The stream, then one reconnect from id 5 that the server answers with
    // 204, and no error before it (wrangler dev reloads the Worker when src/
    // changes, which cuts the stream and adds a resumed one: do not edit src/
    // while this runs). After it, only what this browser is known to report
    // about that normal end.
    const [first, second, ...afterEnd] = timeline
    expect([first, second]).toEqual(['/events 200', `/events 204 Last-Event-ID: ${FRAMES}`])
    const known = reportsAfterEnd(`${server.url}events`)
    expect(afterEnd.filter((entry) => !known.includes(entry))).toEqual([])

    const shot = (variant: string): ScreenshotOptions => ({
      path: `${artifacts}browser-${name}-${runtime}${variant}.png`,
      fullPage: true,
    })
    await page.screenshot(shot(''))
    if (emulatesColorScheme) {
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }])
      await page.screenshot(shot('-dark'))
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
    }
    await page.setViewport({ width: 390, height: 844 })
    await page.screenshot(shot('-narrow'))
  })
})
