/**
 * eventStreamResponse: what a client sees of one request, headers first, and
 * the registry's cap and shutdown seen from the client.
 */
import { describe, expect, it } from 'vitest'
import { createEventStream } from '../../src/lib/event-stream.ts'
import { StreamRegistry } from '../../src/lib/registry.ts'
import { eventStreamResponse } from '../../src/lib/response.ts'
import type { SourceContext, StreamEnd } from '../../src/lib/types.ts'

const events = [{ id: '1', data: 'one' }]
const get = (headers: Record<string, string> = {}, method = 'GET') =>
  new Request('http://localhost/feed', { method, headers })

describe('eventStreamResponse', () => {
  it('answers 200 with the SSE headers and no hop-by-hop header', async () => {
    const res = eventStreamResponse(get(), events, { retry: 2000 })
    expect(res.status).toBe(200)
    expect(Object.fromEntries(res.headers)).toEqual({
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache, no-transform',
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    })
    expect(await res.text()).toBe('retry: 2000\n\nid: 1\ndata: one\n\n')
  })

  it('gives the source the Last-Event-ID header, or the lastEventId query of polyfills', async () => {
    const seen: (string | undefined)[] = []
    const source = ({ lastEventId }: SourceContext) => {
      seen.push(lastEventId)
      return []
    }
    await eventStreamResponse(get({ 'Last-Event-ID': 'q-7' }), source).text()
    await eventStreamResponse(new Request('http://localhost/feed?lastEventId=q-8'), source).text()
    await eventStreamResponse(get(), source).text()
    expect(seen).toEqual(['q-7', 'q-8', undefined])
  })

  it('answers 204 when the source function returns null, so EventSource stops reconnecting', async () => {
    const ends: StreamEnd[] = []
    const res = eventStreamResponse(get({ 'Last-Event-ID': '9' }), () => null, { onEnd: (end) => ends.push(end) })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.text()).toBe('')
    expect(ends).toEqual([])
  })

  it('answers HEAD with the headers and never calls the source', async () => {
    let called = 0
    const res = eventStreamResponse(get({}, 'HEAD'), () => {
      called++
      return events
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.body).toBeNull()
    expect(called).toBe(0)
  })

  it('names one origin, with the caller’s credentials header, on the stream and the 204', async () => {
    const options = { allowOrigin: 'https://app.example', headers: { 'Access-Control-Allow-Credentials': 'true' } }
    const res = eventStreamResponse(get(), events, options)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    await res.body?.cancel()
    const over = eventStreamResponse(get(), () => null, options)
    expect(over.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(over.headers.get('access-control-allow-credentials')).toBe('true')
  })

  it('tells onOpen of each request answered with a stream, and of no other', async () => {
    const opened: string[] = []
    const onOpen = (request: Request) => opened.push(`${request.method} ${request.headers.get('X-Id')}`)
    const streams = new StreamRegistry({ maxStreams: 1 })
    const first = eventStreamResponse(get({ 'X-Id': 'stream' }), events, { onOpen, streams })
    eventStreamResponse(get({ 'X-Id': 'busy' }), events, { onOpen, streams })
    await first.text()
    eventStreamResponse(get({ 'X-Id': 'over' }), () => null, { onOpen })
    eventStreamResponse(get({ 'X-Id': 'head' }, 'HEAD'), events, { onOpen })
    expect(opened).toEqual(['GET stream'])
  })

  it('sends no CORS header with allowOrigin null', async () => {
    const res = eventStreamResponse(get(), events, { allowOrigin: null })
    expect(res.headers.has('access-control-allow-origin')).toBe(false)
    await res.body?.cancel()
  })

  it.each(['Connection', 'transfer-encoding', 'Keep-Alive', 'Upgrade', 'TE', 'Proxy-Connection'])(
    'refuses the hop-by-hop header %s, illegal in HTTP/2',
    (name) => {
      expect(() => eventStreamResponse(get(), events, { headers: { [name]: 'x' } })).toThrow(
        new TypeError(`header ${name} is hop-by-hop, illegal in HTTP/2`),
      )
    },
  )

  it.each([
    ['a line break (header injection)', 'https://a.example\r\nSet-Cookie: x=1'],
    ['an empty string', ''],
  ])('refuses an allowOrigin with %s', (_, allowOrigin) => {
    expect(() => eventStreamResponse(get(), events, { allowOrigin })).toThrow(TypeError)
  })
})

describe('with a registry', () => {
  it('gives EventSource past the cap a 200 that only says when to come back, and others 503', async () => {
    const streams = new StreamRegistry({ maxStreams: 1, busyRetryMs: 60_000 })
    const first = eventStreamResponse(get(), events, { streams })
    expect(streams.size).toBe(1)
    const browser = eventStreamResponse(get({ Accept: 'text/event-stream' }), events, { streams })
    expect(browser.status).toBe(200)
    expect(await browser.text()).toBe('retry: 60000\n\n: too many open streams\n')
    const other = eventStreamResponse(get(), events, { streams })
    expect(other.status).toBe(503)
    expect(other.headers.get('retry-after')).toBe('60')
    expect(await other.text()).toBe('Service Unavailable: too many open streams\n')
    await first.text()
    expect(streams.size).toBe(0)
    expect(eventStreamResponse(get(), events, { streams }).status).toBe(200)
  })

  it('turns new streams away while shutting down, with the stream’s own retry', async () => {
    const streams = new StreamRegistry()
    streams.shutdown()
    const browser = eventStreamResponse(get({ Accept: 'text/event-stream' }), events, { streams, retry: 3000 })
    expect(await browser.text()).toBe('retry: 3000\n\n: shutting down\n')
    const other = eventStreamResponse(get(), events, { streams, retry: 3000 })
    expect(other.status).toBe(503)
    expect(other.headers.get('retry-after')).toBe('3')
    expect(streams.size).toBe(0)
  })

  it('closes a stream made with createEventStream on a registry that is already shutting down', async () => {
    const streams = new StreamRegistry()
    const ends: StreamEnd[] = []
    streams.shutdown()
    const reader = createEventStream(events, { streams, onEnd: (end) => ends.push(end) }).getReader()
    expect(await reader.read()).toEqual({ done: true, value: undefined })
    expect(ends).toEqual([{ reason: 'shutdown', events: 0 }])
  })

  it.each([
    [{ maxStreams: -1 }, 'StreamRegistry: maxStreams must be a non-negative integer, got -1'],
    [{ busyRetryMs: 1.5 }, 'StreamRegistry: busyRetryMs must be a non-negative integer, got 1.5'],
  ])('refuses bad registry options: %j', (options, message) => {
    expect(() => new StreamRegistry(options)).toThrow(new TypeError(message))
  })
})
