/**
 * A demo page as a browser test sees it (index.html with its /events stream,
 * or topic.html with its topic): opened in a fresh browser context, with a
 * record of what the browser reported about the stream (each answer on the
 * stream's path, console and page errors, failed requests) and of each state
 * shown.
 */
import type { Browser, HTTPRequest, Page } from 'puppeteer-core'
import type { TestContext } from 'vitest'

export interface DemoPage {
  page: Page
  /** Every request on the stream's path, in order. */
  streams: HTTPRequest[]
  /**
   * What the browser reported, in order: `/events 200`, `/events 204 Last-Event-ID: 5`,
   * `/topics/lobby?last=20 200`, `POST /topics/lobby 201` (the method when not GET),
   * `console.error: …`, `pageerror: …`, `requestfailed: … net::ERR_ABORTED after 204`.
   */
  timeline: string[]
}

/**
 * Opens `url` in a new browser context, closed when the test finishes,
 * recording the answers on `streamPath` (the demo's /events by default).
 */
export async function openDemoPage(
  browser: Browser,
  url: string,
  ctx: TestContext,
  streamPath = '/events',
): Promise<DemoPage> {
  const isStream = (href: string) => new URL(href).pathname === streamPath
  // Its own context: no connection, cache or cookie is shared with another test.
  const context = await browser.createBrowserContext()
  ctx.onTestFinished(() => context.close())
  const page = await context.newPage()
  const streams: HTTPRequest[] = []
  const timeline: string[] = []
  page.on('request', (request) => {
    if (isStream(request.url())) streams.push(request)
  })
  page.on('response', (response) => {
    if (!isStream(response.url())) return
    // Read with the response: Chromium adds Last-Event-ID in its network
    // service, so the headers seen when the request starts lack it.
    const request = response.request()
    const lastEventId = request.headers()['last-event-id']
    const { pathname, search } = new URL(response.url())
    const method = request.method() === 'GET' ? '' : `${request.method()} `
    timeline.push(
      `${method}${pathname}${search} ${response.status()}${lastEventId === undefined ? '' : ` Last-Event-ID: ${lastEventId}`}`,
    )
  })
  page.on('console', (message) => {
    if (message.type() === 'error') timeline.push(`console.error: ${message.text()}`)
  })
  page.on('pageerror', (error) => timeline.push(`pageerror: ${error instanceof Error ? error.message : error}`))
  page.on('requestfailed', (request) => {
    // A failure after the status line came is the body's, not the request's.
    const status = request.response()?.status()
    timeline.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}${status ? ` after ${status}` : ''}`)
  })
  // Records every state the page shows after the initial "connecting" from the HTML.
  await page.evaluateOnNewDocument(() => {
    const states: string[] = []
    Object.assign(window, { states })
    new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target as HTMLElement
        if (target.id === 'state') states.push(target.dataset.state ?? '')
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] })
  })
  await page.goto(url)
  return { page, streams, timeline }
}

/** The states the page has shown since it loaded, e.g. open, reconnecting, finished. */
export function statesSeen(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { states: string[] }).states)
}

/** The messages the page shows, in arrival order (items are only ever appended). */
export function messagesShown(page: Page): Promise<string[]> {
  return page.$$eval('#messages .data', (items) => items.map((item) => item.textContent ?? ''))
}

/** Resolves once the page shows at least `count` messages. */
export async function waitForMessageCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelectorAll('#messages li').length >= n,
    { polling: 'mutation' },
    count,
  )
}

/** Resolves once the browser has given up on the stream for good. */
export async function waitForFinished(page: Page): Promise<void> {
  await page.waitForSelector('#state[data-state="finished"]')
}
