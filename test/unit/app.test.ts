import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { type AppOptions, createApp } from '../../src/lib/app.ts'
import { StreamRegistry } from '../../src/lib/registry.ts'
import type { StreamEnd } from '../../src/lib/types.ts'

const settings = { intervalMs: 1, frames: 3 }
const quiet = () => {
  const ends: StreamEnd[] = []
  return { ends, app: createApp({ settings, onStreamEnd: (end) => ends.push(end) }) }
}
const expected = 'retry: 3000\n\nid: 1\ndata: Message 1\n\nid: 2\ndata: Message 2\n\nid: 3\ndata: Message 3\n\n'

describe('GET /events', () => {
  it('answers 200 with the stream headers and no hop-by-hop header', async () => {
    const res = await quiet().app.request('/events')
    expect(res.status).toBe(200)
    expect(Object.fromEntries(res.headers)).toEqual({
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache, no-transform',
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    })
    await res.body?.cancel()
  })

  it('streams every frame and logs one end', async () => {
    const { app, ends } = quiet()
    expect(await (await app.request('/events')).text()).toBe(expected)
    expect(ends).toEqual([{ reason: 'complete', events: 3 }])
  })

  it('resumes after Last-Event-ID', async () => {
    const res = await quiet().app.request('/events', { headers: { 'Last-Event-ID': '2' } })
    expect(await res.text()).toBe('retry: 3000\n\nid: 3\ndata: Message 3\n\n')
  })

  it('answers 204 with no body once the client has the last frame', async () => {
    const { app, ends } = quiet()
    for (const id of ['3', '4', '99']) {
      const res = await app.request('/events', { headers: { 'Last-Event-ID': id } })
      expect(res.status).toBe(204)
      expect(await res.text()).toBe('')
    }
    expect(ends).toEqual([])
  })

  it('restarts a stream whose Last-Event-ID is garbage rather than failing', async () => {
    const res = await quiet().app.request('/events', { headers: { 'Last-Event-ID': '1e3' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(expected)
  })

  it('uses the message option for the data', async () => {
    const app = createApp({ settings: { intervalMs: 1, frames: 1 }, message: (id) => `tick ${id}`, onStreamEnd() {} })
    expect(await (await app.request('/events')).text()).toBe('retry: 3000\n\nid: 1\ndata: tick 1\n\n')
  })

  it('ends a stream whose message() throws cleanly, keeps the error from the client, and serves on', async () => {
    const ends: StreamEnd[] = []
    const app = createApp({
      settings,
      message: (id) => {
        if (id === 2) throw new Error('secret database password in error text')
        return `Message ${id}`
      },
      onStreamEnd: (end) => ends.push(end),
    })
    const res = await app.request('/events')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('retry: 3000\n\nid: 1\ndata: Message 1\n\n')
    expect(ends).toEqual([{ reason: 'error', events: 1, error: 'Error: secret database password in error text' }])
    const resumed = await app.request('/events', { headers: { 'Last-Event-ID': '2' } })
    expect(await resumed.text()).toBe('retry: 3000\n\nid: 3\ndata: Message 3\n\n')
  })

  it('logs one JSON line per stream end by default', async () => {
    const lines: string[] = []
    const log = console.log
    console.log = (line: string) => lines.push(line)
    try {
      await (await createApp({ settings }).request('/events')).text()
    } finally {
      console.log = log
    }
    expect(lines).toEqual(['{"msg":"stream end","reason":"complete","events":3}'])
  })
})

describe('other methods on /events', () => {
  it('answers HEAD with the stream headers, no body and no stream', async () => {
    const { app, ends } = quiet()
    const res = await app.request('/events', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.body).toBeNull()
    expect(ends).toEqual([])
  })

  it('answers a CORS preflight allowing GET and the Last-Event-ID header', async () => {
    const res = await quiet().app.request('/events', {
      method: 'OPTIONS',
      headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'GET' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS')
    expect(res.headers.get('access-control-allow-headers')).toBe('Last-Event-ID, Cache-Control')
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('answers %s with 405 and Allow', async (method) => {
    const { app, ends } = quiet()
    const res = await app.request('/events', { method })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    expect(ends).toEqual([])
  })
})

describe('the stream cap', () => {
  const capped = () => createApp({ settings: { ...settings, maxStreams: 1, busyRetryMs: 60000 }, onStreamEnd() {} })

  it('gives EventSource a 200 that only says when to come back', async () => {
    const app = capped()
    const first = await app.request('/events')
    const busy = await app.request('/events', { headers: { Accept: 'text/event-stream' } })
    expect(busy.status).toBe(200)
    expect(await busy.text()).toBe('retry: 60000\n\n: too many open streams\n')
    await first.body?.cancel()
  })

  it('gives other clients 503 with Retry-After', async () => {
    const app = capped()
    const first = await app.request('/events')
    const busy = await app.request('/events')
    expect(busy.status).toBe(503)
    expect(busy.headers.get('retry-after')).toBe('60')
    await first.body?.cancel()
  })

  it('frees a place when a stream ends', async () => {
    const app = capped()
    await (await app.request('/events')).text()
    const again = await app.request('/events')
    expect(await again.text()).toBe(expected)
  })
})

describe('routing', () => {
  it('answers an unknown path with 404', async () => {
    const res = await quiet().app.request('/nope')
    expect(res.status).toBe(404)
    expect(await res.text()).toBe('Not Found')
  })

  it('works mounted under a path in a bigger app', async () => {
    const parent = new Hono().route('/sse', quiet().app)
    expect(await (await parent.request('/sse/events')).text()).toBe(expected)
    expect((await parent.request('/events')).status).toBe(404)
  })

  it('serves no debug route', async () => {
    expect((await quiet().app.request('/debug/streams')).status).toBe(404)
  })
})

describe('options', () => {
  it.each([
    [{ settings: { frames: 0 } }, 'settings.frames must be an integer from 1 to 1000000, got 0'],
    [{ settings: { intervalMs: 1.5 } }, 'settings.intervalMs must be an integer from 1 to 3600000, got 1.5'],
    [
      { settings: { frame: 5 } },
      'unknown setting "frame"; the settings are frames, intervalMs, retryMs, keepAliveMs, maxStreams, busyRetryMs',
    ],
    [
      { settings: { toString: 5 } },
      'unknown setting "toString"; the settings are frames, intervalMs, retryMs, keepAliveMs, maxStreams, busyRetryMs',
    ],
    [
      { streams: new StreamRegistry(), settings: { maxStreams: 5 } },
      'createApp: give maxStreams and busyRetryMs to the StreamRegistry passed as streams',
    ],
    [
      { allowOrigin: 'https://a.example\r\nSet-Cookie: x=1' },
      `allowOrigin must be '*', an origin or null, got "https://a.example\\r\\nSet-Cookie: x=1"`,
    ],
  ])('refuses a bad option at once: %j', (options, message) => {
    expect(() => createApp(options as AppOptions)).toThrow(message)
  })

  it('names one origin instead of *, on the stream, the 204 and the preflight', async () => {
    const app = createApp({ settings, allowOrigin: 'https://app.example', onStreamEnd() {} })
    const stream = await app.request('/events')
    expect(stream.headers.get('access-control-allow-origin')).toBe('https://app.example')
    await stream.body?.cancel()
    const over = await app.request('/events', { headers: { 'Last-Event-ID': '3' } })
    expect(over.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const preflight = await app.request('/events', { method: 'OPTIONS' })
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
  })

  it('sends no CORS header at all with allowOrigin null', async () => {
    const app = createApp({ settings, allowOrigin: null, onStreamEnd() {} })
    const stream = await app.request('/events')
    expect(stream.headers.has('access-control-allow-origin')).toBe(false)
    await stream.body?.cancel()
    expect((await app.request('/events', { method: 'OPTIONS' })).headers.has('access-control-allow-origin')).toBe(false)
  })

  it('counts its streams in a shared registry, and closes them on its shutdown', async () => {
    const streams = new StreamRegistry()
    const ends: StreamEnd[] = []
    const app = createApp({ settings: { intervalMs: 1000 }, streams, onStreamEnd: (end) => ends.push(end) })
    const res = await app.request('/events')
    expect(streams.size).toBe(1)
    streams.shutdown()
    expect(await res.text()).toBe('retry: 3000\n\n')
    expect(ends).toEqual([{ reason: 'shutdown', events: 0 }])
    const late = await app.request('/events')
    expect(late.status).toBe(503)
  })
})
