/**
 * The topic page (public/topic.html) as a browser test drives it: opened like
 * the demo page (demo-page.ts), what it shows read back as data, its buttons
 * pressed. Each step is one evaluation in the page where it can be: over
 * WebDriver BiDi every round trip to Firefox counts, and puppeteer's own
 * click and `$$eval` take several.
 */
import type { Browser, Page } from 'puppeteer-core'
import type { TestContext } from 'vitest'
import { type DemoPage, openDemoPage } from './demo-page.ts'

/** One item of the page's event list: an event, or the gap notice (type `gap`). */
export interface ShownEvent {
  id: string
  type: string
  data: string
  /** The gap's reason; absent for an event. */
  reason?: string
}

/** Opens topic.html on `topic`, showing `message` events and `types`; resolves once its stream is open. */
export async function openTopicPage(
  browser: Browser,
  baseUrl: string,
  topic: string,
  ctx: TestContext,
  types: string[] = [],
): Promise<DemoPage> {
  const query = new URLSearchParams({ name: topic, types: types.join(',') })
  const opened = await openDemoPage(browser, `${baseUrl}topic.html?${query}`, ctx, `/topics/${topic}`)
  await waitForState(opened.page, 'open')
  return opened
}

/** Resolves once the page shows `state` (open, paused, …). */
export async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`#state[data-state="${state}"]`)
}

/** Resolves once the page lists at least `count` items (events and gap notices). */
export async function waitForEvents(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('#events li').length >= n, { polling: 'mutation' }, count)
}

/** The items the page lists, in arrival order, and the last event id it shows. */
export function eventsShown(page: Page): Promise<{ events: ShownEvent[]; lastId: string }> {
  return page.evaluate(() => ({
    events: Array.from(document.querySelectorAll<HTMLElement>('#events li'), (item) => {
      const { id = '', reason } = item.dataset
      const type = item.querySelector('.type')?.textContent ?? ''
      const data = item.querySelector('.data')?.textContent ?? ''
      return reason === undefined ? { id, type, data } : { id, type, data, reason }
    }),
    lastId: document.getElementById('last-id')?.textContent ?? '',
  }))
}

/** Clicks Pause (or Resume) and resolves once the page shows `state`. */
export async function togglePause(page: Page, state: string): Promise<void> {
  await page.evaluate(() => document.getElementById('pause')?.click())
  await waitForState(page, state)
}

/** The publish form's result: `ok` or `error`, and the line shown. */
export interface PublishResult {
  kind: string
  text: string
}

/** Fills in the publish form, clicks its button, and resolves with the result it shows. */
export async function publishFromForm(
  page: Page,
  fields: { token: string; event?: string; data: string },
): Promise<PublishResult> {
  await page.evaluate(({ token, event = '', data }) => {
    const set = (id: string, value: string) => {
      ;(document.getElementById(id) as HTMLInputElement | HTMLTextAreaElement).value = value
    }
    set('token', token)
    set('event-type', event)
    set('data', data)
    // The marker waited for below: cleared, so an earlier result does not count.
    delete (document.getElementById('publish-result') as HTMLElement).dataset.result
    document.getElementById('publish-button')?.click()
  }, fields)
  await page.waitForSelector('#publish-result[data-result="ok"], #publish-result[data-result="error"]')
  return page.evaluate(() => {
    const result = document.getElementById('publish-result') as HTMLElement
    return { kind: result.dataset.result ?? '', text: result.textContent ?? '' }
  })
}
