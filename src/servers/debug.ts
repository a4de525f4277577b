/**
 * Debug routes (`SSE_DEBUG=1`), for the cross-runtime tests and the soak: what
 * is open in this process, a demo stream that fails, a user-style source
 * whose every `next()` and `finally` is counted, and a bulk publish to load a
 * topic. Never on by default.
 */
import type { Hono } from 'hono'
import { logStreamEnd } from '../lib/app.ts'
import type { ServerSentEvent } from '../lib/encoder.ts'
import { defaultMessage, frames, lastFrame } from '../lib/frames.ts'
import type { StreamRegistry } from '../lib/registry.ts'
import { eventStreamResponse } from '../lib/response.ts'
import type { Settings } from '../lib/settings.ts'
import { pendingTimers } from '../lib/timers.ts'
import type { EventStreamResponseOptions, SourceContext, TopicStore } from '../lib/types.ts'
import type { ObjectTotals } from './worker-topics.ts'

// Per process (per isolate on Workers): sources started whose finally has not
// run yet, and events the sources were asked for.
const counts = { sources: 0, pulls: 0 }

/** Waits `ms`, or rejects at once when `signal` aborts: what a user's source must do. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', abort)
    }
    const abort = () => {
      done()
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      done()
      resolve()
    }, ms)
    signal.addEventListener('abort', abort)
  })
}

/** What `/debug/source` sends, from its query. */
interface Plan {
  events: number
  intervalMs: number
  /** Bytes of padding in each event's data. */
  size: number
  /** Event `at` throws, or is one the encoder refuses. */
  fail: 'throw' | 'refuse' | undefined
  at: number
}

function planOf(url: URL): Plan {
  const number = (name: string, fallback: number) => {
    const value = url.searchParams.get(name)
    return value === null ? fallback : Number(value)
  }
  const fail = url.searchParams.get('fail')
  return {
    events: number('events', 5),
    intervalMs: number('interval', 0),
    size: number('size', 0),
    fail: fail === 'throw' || fail === 'refuse' ? fail : undefined,
    at: number('at', 2),
  }
}

function tick(plan: Plan, n: number): ServerSentEvent {
  counts.pulls++
  if (plan.fail === 'throw' && n === plan.at) throw new Error(`debug: source failed at ${n}`)
  // A CR in an id would let the sender start a field of its own: refused.
  const id = plan.fail === 'refuse' && n === plan.at ? `${n}\rdata: injected` : String(n)
  return { event: 'tick', id, data: JSON.stringify({ n, pad: 'x'.repeat(plan.size) }) }
}

async function* asyncTicks(plan: Plan, { lastEventId, signal }: SourceContext): AsyncGenerator<ServerSentEvent> {
  counts.sources++
  try {
    for (let n = lastFrame(lastEventId) + 1; n <= plan.events; n++) {
      if (plan.intervalMs > 0) await sleep(plan.intervalMs, signal)
      yield tick(plan, n)
    }
  } finally {
    counts.sources--
  }
}

function* syncTicks(plan: Plan, { lastEventId }: SourceContext): Generator<ServerSentEvent> {
  counts.sources++
  try {
    for (let n = lastFrame(lastEventId) + 1; n <= plan.events; n++) yield tick(plan, n)
  } finally {
    counts.sources--
  }
}

/** Adds the debug routes to `app`, streaming with the app's own settings, registry and `onOpen`. */
export function addDebugRoutes(
  app: Hono,
  settings: Settings,
  streams: StreamRegistry,
  onOpen?: (request: Request) => void,
  topics?: TopicStore,
): void {
  const options: EventStreamResponseOptions = {
    retry: settings.retryMs,
    keepAliveMs: settings.keepAliveMs,
    streams,
    onEnd: logStreamEnd,
    onOpen,
  }
  const failing = frames(settings, (id) => {
    if (id === 2) throw new Error('debug: frame 2 failed')
    return defaultMessage(id)
  })

  // Topics held and their subscribers: counted by a store in this process
  // (size, subscribers), or asked of each topic's Durable Object (counts(),
  // whose streams run there and count as open too).
  const topicCounts = async (): Promise<{ topics?: number; subscribers?: number; streams?: number }> => {
    const counted = topics as
      | Partial<{ size: number; subscribers: number; counts(): Promise<ObjectTotals> }>
      | undefined
    if (counted?.counts) return counted.counts()
    return counted?.size === undefined ? {} : { topics: counted.size, subscribers: counted.subscribers }
  }
  app.get('/debug/streams', async (c) => {
    const { streams: elsewhere = 0, ...topicsHeld } = await topicCounts()
    return c.json({
      open: streams.size + elsewhere,
      timers: pendingTimers(),
      sources: counts.sources,
      pulls: counts.pulls,
      ...topicsHeld,
    })
  })
  // Publishes ?count= events of ?size= bytes to a topic as fast as the store takes them: load for the
  // tests. Up to 32 at a time (Redis answers each after a round trip), then the last one alone, so
  // that its id is the topic's latest; a store that can flood a topic itself (Workers) does.
  app.post('/debug/publish/:name', async (c) => {
    if (!topics) return c.text('no topic store\n', 404)
    const name = c.req.param('name')
    const count = Number(c.req.query('count') ?? '1')
    const size = Number(c.req.query('size') ?? '0')
    const flooding = topics as Partial<{ flood(name: string, count: number, size: number): Promise<{ last: string }> }>
    if (flooding.flood) return c.json(await flooding.flood(name, count, size))
    const data = 'x'.repeat(size)
    let started = 1
    const publishing = async () => {
      while (started < count) {
        started++
        await topics.publish(name, { data })
      }
    }
    await Promise.all(Array.from({ length: 32 }, publishing))
    return c.json({ last: await topics.publish(name, { data }) })
  })
  app.get('/debug/failing-stream', (c) => eventStreamResponse(c.req.raw, failing, options))
  // ?events=5&interval=0&size=0&fail=throw|refuse&at=2&sync=1
  app.get('/debug/source', (c) => {
    const url = new URL(c.req.url)
    const plan = planOf(url)
    const source = url.searchParams.get('sync') === '1' ? syncTicks : asyncTicks
    return eventStreamResponse(c.req.raw, (context) => source(plan, context), options)
  })
}
