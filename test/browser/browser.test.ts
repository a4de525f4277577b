/**
 * The page in a real Chromium against each runtime's real server: messages
 * arrive one by one, the browser reconnects once, gets 204 and stops for good.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page, type Request } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type RunningServer, runtimes, startServer } from '../support/servers.ts'

const CHROMIUM = '/usr/bin/chromium'
const INSTALL = 'apt-get update && apt-get install -y chromium'
const hasChromium = existsSync(CHROMIUM)
const MISSING = `Chromium not found at ${CHROMIUM}; install it with: ${INSTALL}`

const FRAMES = 5 // the default SSE_FRAMES
const INTERVAL_MS = 100
const RETRY_MS = 300
const artifacts = fileURLToPath(new URL('../../artifacts/', import.meta.url))

let profile: string | undefined
let browser: BrowserContext | undefined
let server: RunningServer | undefined
let page: Page | undefined

beforeAll(async () => {
  if (!hasChromium) {
    // CI sets this so a missing browser cannot pass as a skipped test.
    if (process.env.EDGE_SSE_REQUIRE_BROWSER === '1') {
      throw new Error(`EDGE_SSE_REQUIRE_BROWSER=1: ${MISSING}`)
    }
    // Also printed here: the default reporter does not show skip notes.
    console.warn(`Skipping the browser tests. ${MISSING}`)
    return
  }
  profile = mkdtempSync(join(tmpdir(), 'edge-sse-chromium-'))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterEach(async () => {
  await page?.close()
  page = undefined
  await server?.stop()
  server = undefined
})

afterAll(async () => {
  await browser?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

it.for(runtimes)('%s: shows every message, reconnects once, then finishes', async (runtime, ctx) => {
  if (!browser) return ctx.skip(MISSING)
  server = await startServer(runtime, { SSE_INTERVAL_MS: String(INTERVAL_MS), SSE_RETRY_MS: String(RETRY_MS) })
  const running = server
  ctx.onTestFailed(() => console.log(`${runtime} server output:\n${running.output()}`))
  page = await browser.newPage()
  const origin = server.url

  const streams: Request[] = []
  const consoleErrors: string[] = []
  const failed: string[] = []
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/events') streams.push(request)
  })
  page.on('console', (message) => {
    // Chromium logs nothing for the 204 that ends the stream (it only reports
    // a 200 with the wrong MIME type), so any error message fails the test.
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
  page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`))
  // Records every state the page shows after the initial "connecting" from the HTML.
  await page.addInitScript(() => {
    const states: string[] = []
    Object.assign(window, { states })
    new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target as HTMLElement
        if (target.id === 'state') states.push(target.dataset.state ?? '')
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] })
  })

  await page.goto(origin)
  const expected = Array.from({ length: FRAMES }, (_, i) => `Message ${i + 1}`)
  // Items are only ever appended, so list order is arrival order.
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('#messages .data')].map((el) => el.textContent).join('\n') === want,
    expected.join('\n'),
  )
  await page.locator('#state[data-state="finished"]').waitFor()

  // The stream, then one reconnect from id 5 that the server answers with 204.
  // (wrangler dev reloads the Worker when src/ changes, which cuts the stream
  // and adds a resumed one: do not edit src/ while this runs.)
  const seen = await Promise.all(
    streams.map(async (request) => ({
      lastEventId: (await request.allHeaders())['last-event-id'],
      status: (await request.response())?.status(),
    })),
  )
  expect(seen).toEqual([{ status: 200 }, { lastEventId: String(FRAMES), status: 204 }])
  expect(await page.evaluate(() => (window as unknown as { states: string[] }).states)).toEqual([
    'open',
    'reconnecting',
    'finished',
  ])
  expect(await page.locator('#last-id').textContent()).toBe(String(FRAMES))
  expect(await page.locator('#reconnects').textContent()).toBe('1')

  // Each message shows when it arrived, and they arrived one interval apart,
  // not all at once (a buffering server or proxy would deliver them together).
  const items = page.locator('#messages li')
  expect(await items.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.id))).toEqual(
    expected.map((_, i) => String(i + 1)),
  )
  for (const text of await items.locator('.at').allTextContents()) expect(text).toMatch(/^\+\d+\.\d\d s$/)
  const arrivals = await items.evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.at)))
  expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(((FRAMES - 1) * INTERVAL_MS) / 2)

  // The one deliberate sleep: 204 must end reconnecting for good.
  await page.waitForTimeout(3 * RETRY_MS)
  expect(streams).toHaveLength(2)

  expect(consoleErrors).toEqual([])
  expect(failed).toEqual([])

  await page.screenshot({ path: join(artifacts, `browser-${runtime}.png`), fullPage: true })
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.screenshot({ path: join(artifacts, `browser-${runtime}-dark.png`), fullPage: true })
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.screenshot({ path: join(artifacts, `browser-${runtime}-narrow.png`), fullPage: true })
})
