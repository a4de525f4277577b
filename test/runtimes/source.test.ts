/**
 * A user's own source on every runtime's real server, over real HTTP: the
 * counted async generator of `/debug/source` (src/servers/debug.ts) stands in
 * for a user's upstream `fetch`, database cursor or queue.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/http.ts'
import { printedFromNow } from '../support/process.ts'
import { type RunningServer, runtimes, standaloneRuntimes, startServer } from '../support/servers.ts'
import { arrivals, CLOCK_ROUNDING_MS, readTimed } from '../support/timed-read.ts'

const tick = (n: number, pad = '') => `event: tick\nid: ${n}\ndata: {"n":${n},"pad":"${pad}"}\n\n`
const RETRY = 'retry: 3000\n\n'
const KEEPALIVE_MS = 300

interface Counts {
  open: number
  timers: number
  sources: number
  pulls: number
}

describe.each(runtimes)('%s: a source of the user', (runtime) => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(runtime, { SSE_DEBUG: '1', SSE_KEEPALIVE_MS: String(KEEPALIVE_MS) })
  })
  afterAll(() => server?.stop())

  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init)
  const counts = async (): Promise<Counts> => (await get('debug/streams')).json()

  it('streams named JSON events from an async generator, then ends', async () => {
    const res = await get('debug/source?events=3')
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(await res.text()).toBe(`${RETRY}${tick(1)}${tick(2)}${tick(3)}`)
  })

  it('streams a sync generator the same way', async () => {
    expect(await (await get('debug/source?events=3&sync=1')).text()).toBe(`${RETRY}${tick(1)}${tick(2)}${tick(3)}`)
  })

  it('hands the source the Last-Event-ID, so it resumes after it', async () => {
    const res = await get('debug/source?events=3', { headers: { 'Last-Event-ID': '1' } })
    expect(await res.text()).toBe(`${RETRY}${tick(2)}${tick(3)}`)
  })

  it('runs the generator finally as soon as the client leaves, while it waits', async () => {
    const client = new AbortController()
    // The previous test's stream may log its end a moment after its client has read it all.
    const ended = printedFromNow(server, /\{"msg":"stream end","reason":"cancelled","events":\d+\}/)
    const res = await get('debug/source?events=1000&interval=200', { signal: client.signal })
    await readEvents((res.body as ReadableStream<Uint8Array>).getReader(), 1)
    client.abort()
    await ended
    expect(await counts()).toMatchObject({ open: 0, timers: 0, sources: 0 })
  })

  it('stops a throwing source after its last whole event, logs why, and never shows the client', async () => {
    const logged = printedFromNow(server, /\{"msg":"stream end","reason":"error","events":1,"error":"([^"]+)"\}/)
    const text = await (await get('debug/source?events=5&fail=throw&at=2')).text()
    expect(text).toBe(`${RETRY}${tick(1)}`)
    expect((await logged)[1]).toBe('Error: debug: source failed at 2')
    expect(await counts()).toMatchObject({ open: 0, sources: 0 })
  })

  it('refuses an event with a CR in its id (a field injection): nothing of it is sent, the source is returned', async () => {
    const logged = printedFromNow(server, /\{"msg":"stream end","reason":"error","events":1,"error":"(.+?)"\}\n/)
    const text = await (await get('debug/source?events=5&fail=refuse&at=2')).text()
    expect(text).toBe(`${RETRY}${tick(1)}`)
    expect(text).not.toContain('injected')
    expect((await logged)[1]).toBe('TypeError: SSE field \\"id\\" must not contain CR, LF or U+0000')
    expect(await counts()).toMatchObject({ open: 0, sources: 0 })
  })

  it('sends keep-alive comments while the source is slower than SSE_KEEPALIVE_MS', async () => {
    const sentAt = performance.now()
    const chunks = await readTimed(await get('debug/source?events=1&interval=1000'), sentAt)
    // A comment each time the stream has been quiet 300 ms, before the event
    // 1000 ms in: three if every timer is on time, fewer if one is late, as
    // each period counts from the last write. So not the count: at least one,
    // and the k-th no sooner than k periods after the request.
    const comments = arrivals(chunks, /^:\n/gm)
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(`${RETRY}${':\n'.repeat(comments.length)}${tick(1)}`)
    expect(comments.length).toBeGreaterThanOrEqual(1)
    for (const [i, at] of comments.entries()) {
      expect(at).toBeGreaterThanOrEqual((i + 1) * (KEEPALIVE_MS - CLOCK_ROUNDING_MS))
    }
  })

  it('stops pulling from the source when the client stops reading', async () => {
    // 64 KiB events without end, and a client that reads the first bytes and
    // then nothing: what the socket buffers hold is read, then no more.
    const before = (await counts()).pulls
    const socket = connect(server.port, '127.0.0.1', () =>
      socket.write(`GET /debug/source?events=1000000&size=65536 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
    )
    await new Promise((resolve) => socket.once('data', resolve))
    socket.pause()
    try {
      // Read until two readings a quarter second apart agree: the producer has stopped.
      let last = -1
      let pulls = (await counts()).pulls - before
      for (let i = 0; i < 40 && pulls !== last; i++) {
        last = pulls
        await new Promise((resolve) => setTimeout(resolve, 250))
        pulls = (await counts()).pulls - before
      }
      expect(pulls).toBe(last)
      // A few MB of socket and proxy buffers, never the million events asked for.
      expect(pulls).toBeLessThan(1000)
    } finally {
      socket.destroy()
    }
  })
})

// Workers have no process to stop and no per-process cap (README, "Operating it").
describe.each(standaloneRuntimes)('%s: own streams share the cap and the shutdown', (runtime) => {
  it('counts the user’s streams and the demo’s against one SSE_MAX_STREAMS', async () => {
    const server = await startServer(runtime, { SSE_DEBUG: '1', SSE_MAX_STREAMS: '1', SSE_BUSY_RETRY_MS: '60000' })
    try {
      const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init)
      const asEventSource = { headers: { Accept: 'text/event-stream' } }
      const client = new AbortController()
      const own = await get('debug/source?events=1000&interval=200', { signal: client.signal })
      await readEvents((own.body as ReadableStream<Uint8Array>).getReader(), 1)
      expect(await (await get('events', asEventSource)).text()).toBe('retry: 60000\n\n: too many open streams\n')
      expect(await (await get('debug/source', asEventSource)).text()).toBe('retry: 60000\n\n: too many open streams\n')
      const ended = printedFromNow(server, /"reason":"cancelled"/)
      client.abort()
      await ended
      const demo = await get('events')
      expect(demo.status).toBe(200)
      await demo.body?.cancel()
    } finally {
      await server.stop()
    }
  })

  it('closes the user’s streams between two events on SIGTERM and exits 0 at once', async () => {
    const server = await startServer(runtime, { SSE_DEBUG: '1', SSE_SHUTDOWN_MS: '20000' })
    const res = await fetch(new URL('debug/source?events=1000&interval=100', server.url))
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = await readEvents(reader, 2)
    const signalledAt = performance.now()
    server.signal('SIGTERM')
    const decoder = new TextDecoder()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    // Whole events only: the client resumes from its last id elsewhere.
    expect(text).toMatch(/^retry: 3000\n\n(event: tick\nid: \d+\ndata: \{"n":\d+,"pad":""\}\n\n)+$/)
    expect(await server.exited).toBe(0)
    expect(performance.now() - signalledAt).toBeLessThan(10_000)
    expect(server.output()).toMatch(/\{"msg":"stream end","reason":"shutdown","events":\d+\}/)
  })
})
