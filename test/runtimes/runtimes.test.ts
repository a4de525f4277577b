/**
 * One suite, four runtimes: each runtime's real server, started through its
 * npm script, checked over real HTTP for the same bytes, timing and cleanup.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest, readEvents } from '../support/http.ts'
import { type RunningServer, runtimes, spawnServer, standaloneRuntimes, startServer } from '../support/servers.ts'
import { CLOCK_ROUNDING_MS, readTimed, timedBlocks } from '../support/timed-read.ts'

const INTERVAL_MS = 100
const frame = (n: number) => `id: ${n}\ndata: Message ${n}\n\n`
const allFrames = `retry: 3000\n\n${[1, 2, 3, 4, 5].map(frame).join('')}`
const page = readFileSync(new URL('../../public/index.html', import.meta.url), 'utf8')
const secret = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')

describe.each(runtimes)('%s', (runtime) => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(runtime, { SSE_INTERVAL_MS: String(INTERVAL_MS) })
  })
  afterAll(() => server?.stop())

  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init)

  describe('the stream', () => {
    it('answers 200 with the SSE headers', async () => {
      const res = await get('events')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(res.headers.get('x-accel-buffering')).toBe('no')
      await res.body?.cancel()
    })

    it('sends the retry field at once, then frames 1 to 5 spread over time', async () => {
      const sentAt = performance.now()
      const chunks = await readTimed(await get('events'), sentAt)
      // The retry field comes alone, before any frame is due.
      expect(chunks[0]?.text).toBe('retry: 3000\n\n')
      const blocks = timedBlocks(chunks)
      expect(blocks.map((b) => b.text)).toEqual(['retry: 3000\n\n', ...[1, 2, 3, 4, 5].map(frame)])
      // Frame k is due k intervals after the stream started, and it started
      // after the request was sent: never earlier. Under load a frame leaves
      // late and the next catches up on the schedule, so the gaps between
      // frames have no lower bound; their times since the request do.
      for (let k = 1; k <= 5; k++) {
        expect(blocks[k]?.at).toBeGreaterThanOrEqual(k * INTERVAL_MS - CLOCK_ROUNDING_MS)
      }
      // Not one burst at the end: only a server that holds frames back (or a
      // stall of four whole intervals) has the client read frames 1 and 5 together.
      expect(blocks[1]?.at).toBeLessThan(blocks[5]?.at as number)
    })

    it('ends the stream as cancelled when the client leaves after 2 frames', async () => {
      // A server of its own: on the shared one, a log line of an earlier test's
      // stream can arrive late (wrangler relays workerd's output) and be misread.
      // A stream of 100 s, far beyond the 20 s the end line is waited for: how
      // soon the server hears of the client leaving depends on load (wrangler
      // relays it to workerd), but only its leaving can end the stream that soon.
      const own = await startServer(runtime, { SSE_INTERVAL_MS: String(INTERVAL_MS), SSE_FRAMES: '1000' })
      try {
        const client = new AbortController()
        const res = await fetch(new URL('events', own.url), { signal: client.signal })
        await readEvents((res.body as ReadableStream<Uint8Array>).getReader(), 2)
        client.abort()
        const match = await own.waitForOutput(/\{"msg":"stream end","reason":"(\w+)"/, 20_000)
        expect(match[1]).toBe('cancelled')
      } finally {
        await own.stop()
      }
    })
  })

  describe('resuming', () => {
    it('sends exactly frames 4 and 5 after Last-Event-ID: 3', async () => {
      const res = await get('events', { headers: { 'Last-Event-ID': '3' } })
      expect(await res.text()).toBe(`retry: 3000\n\n${frame(4)}${frame(5)}`)
    })

    it('answers 204 with an empty body after Last-Event-ID: 5, so EventSource stops', async () => {
      const res = await get('events', { headers: { 'Last-Event-ID': '5' } })
      expect(res.status).toBe(204)
      expect(await res.text()).toBe('')
    })

    it.each([
      ['empty', ''],
      ['negative', '-1'],
      ['exponent', '1e3'],
      ['words', 'abc'],
      ['10,000 digits', '9'.repeat(10_000)],
    ])('restarts at 1 for a Last-Event-ID we never issued (%s)', async (_, id) => {
      const res = await get('events', { headers: { 'Last-Event-ID': id } })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(allFrames)
    })

    it('sends frame 5 for ?lastEventId=4', async () => {
      expect(await (await get('events?lastEventId=4')).text()).toBe(`retry: 3000\n\n${frame(5)}`)
    })
  })

  describe('methods', () => {
    it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('answers %s /events with 405 and Allow', async (method) => {
      const res = await get('events', { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
    })

    it('answers HEAD /events with the stream headers and no body', async () => {
      const res = await get('events', { method: 'HEAD' })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      expect(await res.text()).toBe('')
    })

    it('answers a CORS preflight for Last-Event-ID', async () => {
      const res = await get('events', {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://example.com',
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'last-event-id',
        },
      })
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(res.headers.get('access-control-allow-headers')).toBe('Last-Event-ID, Cache-Control')
    })
  })

  describe('the page and other paths', () => {
    it('serves public/index.html at / as HTML under a strict CSP', async () => {
      const res = await get('')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expect(res.headers.get('content-security-policy')).toBe("default-src 'self'")
      expect(await res.text()).toBe(page)
    })

    it('answers an unknown path with 404', async () => {
      const res = await get('no-such-page')
      expect(res.status).toBe(404)
      await res.body?.cancel()
    })

    it.each([
      ['a 64 KiB path', `/${'a/'.repeat(32_768)}`],
      ...[
        '/../package.json',
        '/%2e%2e/package.json',
        '/%2E%2E/package.json',
        '/..%2fpackage.json',
        '/..%2f..%2fetc/passwd',
        '/%2e%2e%5cpackage.json',
        '/..\\package.json',
        '/%252e%252e/package.json',
        '/index.html%00.json',
        '/%00',
        '/.%2e/.%2e/package.json',
        '//etc/passwd',
      ].map((target) => [target, target]),
    ])('never serves a file outside public/ for %s', async (_, target) => {
      const res = await rawRequest(server.url, target).catch((error: NodeJS.ErrnoException) => error)
      // A server that refuses an oversized request line may reset the socket
      // before its 4xx is read: nothing was served either way.
      if (res instanceof Error) return expect(res.code).toBe('ECONNRESET')
      expect(res.status).toBeGreaterThanOrEqual(400)
      expect(res.status).toBeLessThan(500)
      expect(res.body).not.toContain('"devDependencies"')
      expect(res.body).not.toContain('root:x:0')
      expect(secret).toContain('"devDependencies"')
    })
  })

  describe('hostile headers', () => {
    const cases: [string, [string, string][]][] = [
      ['a 1 MB Last-Event-ID', [['Last-Event-ID', '7'.repeat(1 << 20)]]],
      ['control characters in Last-Event-ID', [['Last-Event-ID', '3\x01\x7f']]],
      [
        'a repeated Last-Event-ID',
        [
          ['Last-Event-ID', '3'],
          ['Last-Event-ID', '4'],
        ],
      ],
    ]
    it.each(cases)('never answers 500 to %s', async (_, headers) => {
      // A runtime may refuse a huge header itself (431) or drop the connection.
      const res = await rawRequest(server.url, '/events', { headers }).catch((error: Error) => error)
      if (!(res instanceof Error)) expect(res.status).not.toBe(500)
      // Either way the server lives on.
      expect((await get('events', { method: 'HEAD' })).status).toBe(200)
    })
  })
})

describe.each(runtimes)('%s with a bad setting', (runtime) => {
  it('refuses to serve and names the variable and its range', async () => {
    const line = 'SSE_FRAMES must be an integer from 1 to 1000000, got "many"'
    if (runtime === 'workerd') {
      // A Worker has no start-up to fail: each request answers 500 with the reason.
      const server = await startServer(runtime, { SSE_FRAMES: 'many' })
      try {
        const res = await fetch(new URL('events', server.url))
        expect(res.status).toBe(500)
        expect(await res.text()).toBe(`${line}\n`)
      } finally {
        await server.stop()
      }
    } else {
      const server = await spawnServer(runtime, { SSE_FRAMES: 'many' })
      expect(await server.exited).not.toBe(0)
      expect(server.output().trim()).toBe(line)
    }
  })
})

// Workers have no process to stop and no per-process cap: Cloudflare runs many
// small isolates and scales out (README, "Operating it").
describe.each(standaloneRuntimes)('%s: limits, failures and shutdown', (runtime) => {
  const endLine = /\{"msg":"stream end","reason":"(\w+)","events":(\d+)\}/g
  const ends = (server: RunningServer) => [...server.output().matchAll(endLine)].map((m) => m[1])

  it('turns streams past SSE_MAX_STREAMS away so clients come back, and frees the place on disconnect', async () => {
    const server = await startServer(runtime, {
      SSE_INTERVAL_MS: '1000',
      SSE_MAX_STREAMS: '1',
      SSE_BUSY_RETRY_MS: '60000',
      SSE_DEBUG: '1',
    })
    try {
      const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init)
      const client = new AbortController()
      const first = await get('events', { signal: client.signal })
      const reader = (first.body as ReadableStream<Uint8Array>).getReader()
      await reader.read() // the retry field: the stream is open

      const browser = await get('events', { headers: { Accept: 'text/event-stream' } })
      expect(browser.status).toBe(200)
      expect(await browser.text()).toBe('retry: 60000\n\n: too many open streams\n')
      const other = await get('events')
      expect(other.status).toBe(503)
      expect(other.headers.get('retry-after')).toBe('60')
      await other.body?.cancel()

      client.abort()
      await server.waitForOutput(/"reason":"cancelled"/)
      expect(await (await get('debug/streams')).json()).toEqual({
        open: 0,
        timers: 0,
        sources: 0,
        pulls: 0,
        topics: 0,
        subscribers: 0,
      })
      const again = await get('events')
      expect(again.status).toBe(200)
      await again.body?.cancel()
    } finally {
      await server.stop()
    }
  })

  it('ends only the stream whose frame throws, logs why, and never shows the client the error', async () => {
    const server = await startServer(runtime, { SSE_INTERVAL_MS: '50', SSE_DEBUG: '1' })
    try {
      const failing = await fetch(new URL('debug/failing-stream', server.url))
      expect(await failing.text()).toBe(`retry: 3000\n\n${frame(1)}`)
      await server.waitForOutput(
        /\{"msg":"stream end","reason":"error","events":1,"error":"Error: debug: frame 2 failed"\}/,
      )
      expect(await (await fetch(new URL('events', server.url))).text()).toBe(
        `retry: 3000\n\n${[1, 2, 3, 4, 5].map(frame).join('')}`,
      )
    } finally {
      await server.stop()
    }
  })

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s ends open streams between frames and exits 0 without waiting for the deadline',
    async (signal) => {
      // Streams of 200 s, so only the shutdown can end them (its log says so);
      // with 5 frames a late signal could let one complete.
      const server = await startServer(runtime, {
        SSE_INTERVAL_MS: '200',
        SSE_FRAMES: '1000',
        SSE_SHUTDOWN_MS: '20000',
      })
      const streams = await Promise.all(
        [1, 2].map(async () => {
          const res = await fetch(new URL('events', server.url))
          const reader = (res.body as ReadableStream<Uint8Array>).getReader()
          const head = await readEvents(reader, 1)
          return { head, reader }
        }),
      )
      const signalledAt = performance.now()
      server.signal(signal)
      for (const { head, reader } of streams) {
        let text = head
        const decoder = new TextDecoder()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          text += decoder.decode(value, { stream: true })
        }
        // Whole frames only: the client resumes from its last id.
        expect(text).toMatch(/^retry: 3000\n\n(id: (\d+)\ndata: Message \2\n\n)+$/)
      }
      expect(await server.exited).toBe(0)
      // Far below SSE_SHUTDOWN_MS: it stopped because the streams were done.
      expect(performance.now() - signalledAt).toBeLessThan(10_000)
      expect(ends(server)).toEqual(['shutdown', 'shutdown'])
      await expect(fetch(new URL('events', server.url))).rejects.toThrow()
    },
  )
})
