/**
 * The topic page (public/topic.html) in Chromium and Firefox against each
 * runtime's real server, with two pages on one topic: a publish with a wrong
 * token shows the server's 401 line and reaches neither page; what one page
 * publishes through its form, both show, with the same id, type and data; a
 * paused page that resumes gets exactly the events it missed, or, once they
 * have left the history, the gap notice and then live events. A topic name
 * the server would refuse is refused in the page, with the rule.
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, runtimes, startServer } from '../support/servers.ts'
import { browserNames, useBrowsers } from './browsers.ts'
import { openDemoPage, statesSeen } from './demo-page.ts'
import { eventsShown, openTopicPage, publishFromForm, togglePause, waitForEvents, waitForState } from './topic-page.ts'

const TOKEN = 'browser-test-publish-token'
// The page asks for ?last=20, which the server allows up to its history.
const HISTORY = 20
const artifacts = fileURLToPath(new URL('../../artifacts/', import.meta.url))
mkdirSync(artifacts, { recursive: true })

const browserFor = useBrowsers()

/** Publishes `data` as a plain-text event straight to the server, as another publisher would; returns its id. */
async function publish(server: RunningServer, topic: string, data: string): Promise<string> {
  const response = await fetch(`${server.url}topics/${topic}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/plain' },
    body: data,
  })
  expect(response.status).toBe(201)
  const { id } = (await response.json()) as { id: string }
  return id
}

/** The id in the page's "Published as <id>." line. */
function publishedId(text: string): string {
  const id = /^Published as (\S+)\.$/.exec(text)?.[1]
  expect(id, text).toBeDefined()
  return id as string
}

describe.for(runtimes)('%s', (runtime) => {
  // One server per runtime for both browsers: each test has a topic of its own.
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(runtime, { SSE_PUBLISH_TOKEN: TOKEN, SSE_TOPIC_HISTORY: String(HISTORY) })
  })
  afterAll(() => server?.stop())

  it.for(browserNames)('%s: two pages on one topic, a refused publish, a resume, a gap', async (name, ctx) => {
    const { browser, emulatesColorScheme, reportsRefusedFetch, reportsClosedStream } = browserFor(name, ctx)
    ctx.onTestFailed(() => console.log(`${runtime} server output:\n${server.output()}`))
    const topic = `lobby-${name}`
    const streamUrl = `${server.url}topics/${topic}`
    // Two users, each in a browser context of their own; both pages also show "chat" events.
    const [a, b] = await Promise.all([
      openTopicPage(browser, server.url, topic, ctx, ['chat']),
      openTopicPage(browser, server.url, topic, ctx, ['chat']),
    ])

    // A wrong token: the server's 401 line on the page, and no event.
    const refused = await publishFromForm(a.page, { token: `${TOKEN}-wrong`, event: 'chat', data: 'Not for anyone' })
    expect(refused).toEqual({ kind: 'error', text: '401 publishing needs Authorization: Bearer <SSE_PUBLISH_TOKEN>' })

    // What page A publishes through its form, both pages show. Events reach a
    // page in order: had the refused one been published, it would come first.
    const hello = publishedId((await publishFromForm(a.page, { token: TOKEN, event: 'chat', data: 'Hello' })).text)
    const helloShown = { id: hello, type: 'chat', data: 'Hello' }
    for (const { page } of [a, b]) {
      await waitForEvents(page, 1)
      expect(await eventsShown(page)).toEqual({ events: [helloShown], lastId: hello })
    }

    // Page B paused while one event is published: resuming gets exactly that one.
    await togglePause(b.page, 'paused')
    const paused = await publish(server, topic, 'While B was paused')
    await togglePause(b.page, 'open')
    await waitForEvents(b.page, 2)

    // Page B paused while more than the history is published: the events after
    // the last one it shows are gone, and it says so instead of skipping them.
    await togglePause(b.page, 'paused')
    const missed: string[] = []
    for (let n = 1; n <= HISTORY + 1; n++) missed.push(await publish(server, topic, `Missed by B ${n}`))
    await togglePause(b.page, 'open')
    await waitForEvents(b.page, 3)
    // Page B goes on live: what it publishes now, both show.
    const after = publishedId((await publishFromForm(b.page, { token: TOKEN, data: 'After the gap' })).text)
    await Promise.all([waitForEvents(a.page, HISTORY + 4), waitForEvents(b.page, 4)])

    const pausedShown = { id: paused, type: 'message', data: 'While B was paused' }
    const afterShown = { id: after, type: 'message', data: 'After the gap' }
    const latest = missed[HISTORY] as string
    expect(await eventsShown(b.page)).toEqual({
      events: [
        helloShown,
        pausedShown,
        {
          id: latest,
          type: 'gap',
          reason: 'expired',
          data: `Events were missed (expired): the events after the last one shown are no longer held. Live events follow; the oldest held is ${missed[1]}.`,
        },
        afterShown,
      ],
      lastId: after,
    })
    // Page A, never paused, shows every event once.
    const missedShown = missed.map((id, i) => ({ id, type: 'message', data: `Missed by B ${i + 1}` }))
    expect(await eventsShown(a.page)).toEqual({
      events: [helloShown, pausedShown, ...missedShown, afterShown],
      lastId: after,
    })
    expect(await statesSeen(a.page)).toEqual(['open'])
    expect(await statesSeen(b.page)).toEqual(['open', 'paused', 'connecting', 'open', 'paused', 'connecting', 'open'])

    // What the browser reported: page A's stream and two publishes; page B's
    // stream, two resumes, each after the last id it showed, and its publish;
    // besides them only what this browser says of a refused fetch or a closed stream.
    const path = `/topics/${topic}`
    const knownA = reportsRefusedFetch(streamUrl, 401)
    expect(a.timeline.filter((entry) => !knownA.includes(entry))).toEqual([
      `${path}?last=${HISTORY} 200`,
      `POST ${path} 401`,
      `POST ${path} 201`,
    ])
    const knownB = [`?last=${HISTORY}`, `?lastEventId=${hello}`].flatMap((query) =>
      reportsClosedStream(`${streamUrl}${query}`),
    )
    expect(b.timeline.filter((entry) => !knownB.includes(entry))).toEqual([
      `${path}?last=${HISTORY} 200`,
      `${path}?lastEventId=${hello} 200`,
      `${path}?lastEventId=${paused} 200`,
      `POST ${path} 201`,
    ])

    // For the README (docs/topic.png is the Chromium one). Once, on Workers
    // (what `npm run dev` serves): the page is the same file on every runtime.
    if (runtime !== 'workerd') return
    const shot = (variant: string) => ({ path: `${artifacts}topic-${name}${variant}.png`, fullPage: true })
    await b.page.bringToFront() // a background tab may not paint
    await b.page.setViewport({ width: 1280, height: 720 }) // as docs/screenshot.png
    await b.page.screenshot(shot(''))
    if (emulatesColorScheme) {
      await b.page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }])
      await b.page.screenshot(shot('-dark'))
      await b.page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
    }
    await b.page.setViewport({ width: 390, height: 844 })
    await b.page.screenshot(shot('-narrow'))
  })

  // The page's own check, the same on every runtime: once.
  if (runtime === 'node') {
    it.for(browserNames)('%s: a topic name the server would refuse is refused in the page', async (name, ctx) => {
      const { browser } = browserFor(name, ctx)
      const { page, timeline } = await openDemoPage(
        browser,
        `${server.url}topic.html?name=no%20spaces`,
        ctx,
        '/topics/no%20spaces',
      )
      await waitForState(page, 'closed')
      const shown = await page.evaluate(() => {
        const input = document.getElementById('name') as HTMLInputElement
        // The field's own pattern (what the form checks before it reloads the page) against the server's rule.
        const valid = (value: string) => {
          input.value = value
          return input.checkValidity()
        }
        return {
          error: document.getElementById('name-error')?.textContent,
          publish: (document.getElementById('publish-button') as HTMLButtonElement).disabled,
          valid: ['lobby', 'A-z_09', 'a'.repeat(64)].map(valid),
          invalid: ['no spaces', '', 'a'.repeat(65), 'dots.no', 'é'].map(valid),
        }
      })
      expect(shown).toEqual({
        error: '"no spaces" is not a topic name: a topic name is 1 to 64 letters, digits, "-" or "_".',
        publish: true,
        valid: [true, true, true],
        invalid: [false, false, false, false, false],
      })
      // Nothing was asked of the server, and nothing went wrong.
      expect(timeline).toEqual([])
    })
  }
})
