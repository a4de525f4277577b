/**
 * The browsers the page is tested in, both driven by puppeteer-core: Debian's
 * Chromium over CDP and Firefox ESR over WebDriver BiDi. A test file launches
 * each installed browser once; a missing one makes its tests skip locally with
 * the install command, and fails them in CI (EDGE_SSE_REQUIRE_BROWSER=1).
 */
import { existsSync } from 'node:fs'
import puppeteer, { type Browser, type LaunchOptions } from 'puppeteer-core'
import { afterAll, beforeAll, type TestContext } from 'vitest'

export const browserNames = ['chromium', 'firefox'] as const
export type BrowserName = (typeof browserNames)[number]

/** What a test needs to know about how a browser differs. */
export interface BrowserTraits {
  /** The shortest wait before a reconnect, whatever `retry:` says. */
  minRetryMs: number
  /** Whether puppeteer can emulate `prefers-color-scheme` (for the dark screenshot). */
  emulatesColorScheme: boolean
  /**
   * What the browser may report once a 204 has ended the stream, which is the
   * normal end (entries as in the demo page's timeline).
   */
  reportsAfterEnd(eventsUrl: string): string[]
  /** What the browser may report when a `fetch` from the page gets `status` (4xx, 5xx). */
  reportsRefusedFetch(url: string, status: number): string[]
  /** What the browser may report when the page closes its open `EventSource` on `streamUrl`. */
  reportsClosedStream(streamUrl: string): string[]
}

interface BrowserSpec extends BrowserTraits {
  /** The Debian package that installs `launch.executablePath`. */
  aptPackage: string
  launch: LaunchOptions & { executablePath: string }
}

const specs: Record<BrowserName, BrowserSpec> = {
  chromium: {
    aptPackage: 'chromium',
    launch: {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox', // tests run as root
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    minRetryMs: 0,
    emulatesColorScheme: true,
    // Chromium logs nothing for the 204 (only for a 200 with the wrong MIME
    // type), but the EventSource closing on it sometimes cancels the request
    // before its empty body is marked done.
    reportsAfterEnd: (eventsUrl) => [`requestfailed: ${eventsUrl} net::ERR_ABORTED after 204`],
    // Chromium logs every response of 400 and over in the console, whoever asked for it.
    reportsRefusedFetch: (_url, status) => [
      `console.error: Failed to load resource: the server responded with a status of ${status} (${statusText[status]})`,
    ],
    // Closing the EventSource cancels its request, whose body is still open.
    reportsClosedStream: (streamUrl) => [`requestfailed: ${streamUrl} net::ERR_ABORTED after 200`],
  },
  firefox: {
    aptPackage: 'firefox-esr',
    launch: { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true },
    // Gecko's EventSource never waits less than 500 ms before reconnecting.
    minRetryMs: 500,
    // puppeteer emulates media features over CDP only; Firefox speaks WebDriver BiDi.
    emulatesColorScheme: false,
    // Firefox reports the 204 that ends the stream as a failed connection,
    // once or twice.
    reportsAfterEnd: (eventsUrl) => [`pageerror: Firefox can’t establish a connection to the server at ${eventsUrl}.`],
    reportsRefusedFetch: () => [],
    reportsClosedStream: () => [],
  },
}

const statusText: Record<number, string> = { 401: 'Unauthorized' }

function missing(name: BrowserName): string {
  const { aptPackage, launch } = specs[name]
  return `${name} not found at ${launch.executablePath}; install it with: apt-get update && apt-get install -y ${aptPackage}`
}

/** Launch options added to each browser's own, e.g. to accept a self-signed certificate. */
export type LaunchExtras = Pick<LaunchOptions, 'args' | 'acceptInsecureCerts'>

/**
 * Launches the installed ones of `names` before the calling file's tests and
 * closes them after. Returns the lookup a test uses: the browser and its
 * traits, or a skip with the install command when it is not installed.
 */
export function useBrowsers(
  names: readonly BrowserName[] = browserNames,
  extras: LaunchExtras = {},
): (name: BrowserName, ctx: TestContext) => BrowserTraits & { browser: Browser } {
  const launch = (name: BrowserName) => {
    const own = specs[name].launch
    return puppeteer.launch({ ...own, ...extras, args: [...(own.args ?? []), ...(extras.args ?? [])] })
  }
  const launched = new Map<BrowserName, Browser>()
  beforeAll(async () => {
    const absent = names.filter((name) => !existsSync(specs[name].launch.executablePath))
    // CI sets this so a missing browser cannot pass as a skipped test.
    if (absent.length > 0 && process.env.EDGE_SSE_REQUIRE_BROWSER === '1') {
      throw new Error(`EDGE_SSE_REQUIRE_BROWSER=1: ${absent.map(missing).join('; ')}`)
    }
    // Also printed here: the default reporter does not show skip notes.
    for (const name of absent) console.warn(`Skipping the ${name} tests. ${missing(name)}`)
    const present = names.filter((name) => !absent.includes(name))
    // Side by side: each launch takes seconds. All settle before a failure is
    // thrown, so afterAll closes every browser that did start.
    const launches = await Promise.allSettled(present.map(async (name) => launched.set(name, await launch(name))))
    for (const result of launches) if (result.status === 'rejected') throw result.reason
  })
  afterAll(async () => {
    await Promise.all([...launched.values()].map((browser) => browser.close()))
  })
  return (name, ctx) => {
    const browser = launched.get(name)
    if (!browser) return ctx.skip(missing(name))
    return { ...specs[name], browser }
  }
}
