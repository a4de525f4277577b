/**
 * HTTPS on the standalone servers (Node, Bun, Deno) with a certificate made at
 * test time: HTTP/2 negotiated by ALPN with the same bytes and timing as plain
 * HTTP, HTTP/1.1 for clients that ask for it, disconnects, the stream cap,
 * a fast shutdown with idle sessions open, and each bad TLS setting refused.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect as connectTcp } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCert, type TestCert, tlsEnv } from '../support/certs.ts'
import { type RunningServer, spawnServer, standaloneRuntimes, startServer } from '../support/servers.ts'
import { CLOCK_ROUNDING_MS, timedBlocks } from '../support/timed-read.ts'
import { h2Connect, h2Request, h2Text, h2Timed, https1Agent, https1Get } from '../support/tls-clients.ts'

const INTERVAL_MS = 100
const frame = (n: number) => `id: ${n}\ndata: Message ${n}\n\n`
const allFrames = `retry: 3000\n\n${[1, 2, 3, 4, 5].map(frame).join('')}`
const page = readFileSync(new URL('../../public/index.html', import.meta.url), 'utf8')
// Illegal in HTTP/2 (RFC 9113 §8.2.2); WebKit drops streams that carry them.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']

let cert: TestCert
beforeAll(async () => {
  cert = await makeCert()
})
afterAll(() => cert?.remove())

describe.each(standaloneRuntimes)('%s over HTTPS', (runtime) => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(runtime, { SSE_INTERVAL_MS: String(INTERVAL_MS), ...tlsEnv(cert) })
  })
  afterAll(() => server?.stop())

  /** One HTTP/2 session for the test, closed after it. */
  const withSession = async <T>(use: (session: Awaited<ReturnType<typeof h2Connect>>) => Promise<T>) => {
    const session = await h2Connect(server.url, cert.cert)
    try {
      return await use(session)
    } finally {
      session.close()
    }
  }

  it('says it listens on https://', () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}/`)
    expect(server.output()).toContain(`edge-sse listening on https://127.0.0.1:${server.port}/`)
  })

  it('negotiates HTTP/2 and streams the exact frames, spread over time', () =>
    withSession(async (session) => {
      expect(session.alpnProtocol).toBe('h2')
      const sentAt = performance.now()
      const res = await h2Request(session, '/events')
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      expect(res.headers['cache-control']).toBe('no-cache, no-transform')
      expect(res.headers['access-control-allow-origin']).toBe('*')
      expect(res.headers['x-accel-buffering']).toBe('no')
      const chunks = await h2Timed(res.stream, sentAt)
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
    }))

  it('sends no hop-by-hop header on any HTTP/2 response', () =>
    withSession(async (session) => {
      for (const [path, headers] of [
        ['/events', {}],
        ['/events', { 'last-event-id': '5' }],
        ['/', {}],
        ['/app.js', {}],
        ['/no-such-page', {}],
      ] as const) {
        const res = await h2Request(session, path, { headers })
        await h2Text(res.stream)
        for (const name of HOP_BY_HOP) expect(res.headers, `${name} on ${path}`).not.toHaveProperty(name)
      }
    }))

  it('serves the page, resumes, ends with 204 and refuses other methods over HTTP/2', () =>
    withSession(async (session) => {
      const home = await h2Request(session, '/')
      expect(home.status).toBe(200)
      expect(home.headers['content-type']).toMatch(/^text\/html/)
      expect(home.headers['content-security-policy']).toBe("default-src 'self'")
      expect(await h2Text(home.stream)).toBe(page)

      const resumed = await h2Request(session, '/events', { headers: { 'last-event-id': '3' } })
      expect(await h2Text(resumed.stream)).toBe(`retry: 3000\n\n${frame(4)}${frame(5)}`)
      const query = await h2Request(session, '/events?lastEventId=4')
      expect(await h2Text(query.stream)).toBe(`retry: 3000\n\n${frame(5)}`)
      const over = await h2Request(session, '/events', { headers: { 'last-event-id': '5' } })
      expect(over.status).toBe(204)
      expect(await h2Text(over.stream)).toBe('')

      const post = await h2Request(session, '/events', { method: 'POST' })
      expect(post.status).toBe(405)
      expect(post.headers.allow).toBe('GET, HEAD, OPTIONS')
      await h2Text(post.stream)
      const traversal = await h2Request(session, '/%2e%2e/package.json')
      expect(traversal.status).toBe(404)
      expect(await h2Text(traversal.stream)).not.toContain('"devDependencies"')
    }))

  it('falls back to HTTP/1.1 for a client that asks only for it', async () => {
    const res = await https1Get(server.url, '/events', cert.cert)
    expect(res.alpnProtocol).toBe('http/1.1')
    expect(res.httpVersion).toBe('1.1')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(res.body).toBe(allFrames)
    const home = await https1Get(server.url, '/', cert.cert)
    expect(home.body).toBe(page)
  })
})

describe.each(standaloneRuntimes)('%s over HTTP/2: cap, disconnects, shutdown', (runtime) => {
  it('turns streams past the cap away, and frees the place at once when a client leaves its stream', async () => {
    const server = await startServer(runtime, {
      SSE_INTERVAL_MS: '300',
      SSE_MAX_STREAMS: '1',
      SSE_BUSY_RETRY_MS: '60000',
      SSE_DEBUG: '1',
      ...tlsEnv(cert),
    })
    const session = await h2Connect(server.url, cert.cert)
    try {
      const first = await h2Request(session, '/events')
      first.stream.setEncoding('utf8')
      const chunks = first.stream[Symbol.asyncIterator]()
      expect((await chunks.next()).value).toBe('retry: 3000\n\n')
      // Over the cap on the same session: the busy answers.
      const browser = await h2Request(session, '/events', { headers: { accept: 'text/event-stream' } })
      expect(await h2Text(browser.stream)).toBe('retry: 60000\n\n: too many open streams\n')
      const other = await h2Request(session, '/events')
      expect(other.status).toBe(503)
      expect(other.headers['retry-after']).toBe('60')
      await h2Text(other.stream)

      expect((await chunks.next()).value).toBe(frame(1))
      // Leaves the stream (RST_STREAM CANCEL), not the session.
      await chunks.return?.()
      const match = await server.waitForOutput(/\{"msg":"stream end","reason":"(\w+)","events":(\d)\}/, 5000)
      expect(match[1]).toBe('cancelled')
      expect(Number(match[2])).toBeLessThan(5)
      const debug = await h2Request(session, '/debug/streams')
      expect(JSON.parse(await h2Text(debug.stream))).toEqual({
        open: 0,
        timers: 0,
        sources: 0,
        pulls: 0,
        topics: 0,
        subscribers: 0,
      })
      const again = await h2Request(session, '/events')
      expect(again.status).toBe(200)
      expect(session.closed).toBe(false)
      again.stream.close()
    } finally {
      session.close()
      await server.stop()
    }
  })

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s ends open streams between frames, sends GOAWAY to idle sessions and exits 0 at once',
    async (signal) => {
      // A stream of 200 s, so only the shutdown can end it (its log says so);
      // with 5 frames a late signal could let it complete.
      const server = await startServer(runtime, {
        SSE_INTERVAL_MS: '200',
        SSE_FRAMES: '1000',
        SSE_SHUTDOWN_MS: '20000',
        ...tlsEnv(cert),
      })
      // One session with a stream, one idle after a request, and one that has
      // just connected (its preface may still be on its way).
      const busy = await h2Connect(server.url, cert.cert)
      const used = await h2Connect(server.url, cert.cert)
      await h2Text((await h2Request(used, '/')).stream)
      // An HTTP/1.1 client over TLS, idle on a kept-alive connection.
      const agent = https1Agent(cert.cert)
      await https1Get(server.url, '/', cert.cert, { agent })
      await new Promise((resolve) => setImmediate(resolve)) // the socket goes back to the agent
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1)
      const res = await h2Request(busy, '/events')
      res.stream.setEncoding('utf8')
      let text = ''
      const read = (async () => {
        for await (const chunk of res.stream) text += chunk
      })()
      while (!text.includes('id: 1\n')) await new Promise((resolve) => res.stream.once('data', resolve))
      const idle = await h2Connect(server.url, cert.cert)

      const closed = (session: typeof idle) => new Promise((resolve) => session.once('close', resolve))
      const sessionsClosed = Promise.all([closed(busy), closed(used), closed(idle)])
      const signalledAt = performance.now()
      server.signal(signal)
      await read
      // Whole frames only: the client resumes from its last id.
      expect(text).toMatch(/^retry: 3000\n\n(id: (\d+)\ndata: Message \2\n\n)+$/)
      expect(await server.exited).toBe(0)
      // Far below SSE_SHUTDOWN_MS and the header deadline (10 s), which would also close idle sessions.
      expect(performance.now() - signalledAt).toBeLessThan(5000)
      await sessionsClosed
      agent.destroy()
      expect(server.output()).toMatch(/"reason":"shutdown"/)
    },
  )
})

describe.each(standaloneRuntimes)('%s with a bad TLS setting', (runtime) => {
  const bad = (name: string, text: string) => {
    const file = join(cert.dir, name)
    writeFileSync(file, text)
    return file
  }
  const cases: [string, () => Record<string, string>, () => string][] = [
    [
      'only TLS_CERT_FILE',
      () => ({ TLS_CERT_FILE: cert.certFile }),
      () => 'TLS_KEY_FILE must be set as well, since TLS_CERT_FILE is',
    ],
    [
      'only TLS_KEY_FILE',
      () => ({ TLS_KEY_FILE: cert.keyFile }),
      () => 'TLS_CERT_FILE must be set as well, since TLS_KEY_FILE is',
    ],
    [
      'a missing certificate file',
      () => ({ TLS_CERT_FILE: join(cert.dir, 'missing.pem'), TLS_KEY_FILE: cert.keyFile }),
      () => `TLS_CERT_FILE must be a readable file, got "${join(cert.dir, 'missing.pem')}" (ENOENT)`,
    ],
    [
      'an unreadable key file (a folder)',
      () => {
        mkdirSync(join(cert.dir, 'folder.pem'), { recursive: true })
        return { ...tlsEnv(cert), TLS_KEY_FILE: join(cert.dir, 'folder.pem') }
      },
      () => `TLS_KEY_FILE must be a readable file, got "${join(cert.dir, 'folder.pem')}" (EISDIR)`,
    ],
    [
      'a certificate file that is not PEM',
      () => ({ ...tlsEnv(cert), TLS_CERT_FILE: bad('garbage.pem', 'not a certificate\n') }),
      () => `TLS_CERT_FILE must be a PEM certificate, got "${join(cert.dir, 'garbage.pem')}"`,
    ],
    [
      'a PEM certificate with a broken body',
      () => ({
        ...tlsEnv(cert),
        TLS_CERT_FILE: bad('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      }),
      () => `TLS_CERT_FILE must be a PEM certificate, got "${join(cert.dir, 'broken.pem')}"`,
    ],
    [
      'a key file holding the certificate',
      () => ({ ...tlsEnv(cert), TLS_KEY_FILE: cert.certFile }),
      () => `TLS_KEY_FILE must be an unencrypted PEM private key, got "${cert.certFile}"`,
    ],
    [
      'the key of another certificate',
      () => ({ ...tlsEnv(cert), TLS_KEY_FILE: other.keyFile }),
      () => `TLS_KEY_FILE must be the key of the certificate, got "${other.keyFile}"`,
    ],
  ]
  let other: TestCert
  beforeAll(async () => {
    other = await makeCert()
  })
  afterAll(() => other?.remove())

  it.concurrent.each(cases)(
    'refuses to start with %s: one line, non-zero exit, nothing listening',
    async (_, env, line) => {
      const server = await spawnServer(runtime, env())
      expect(await server.exited).not.toBe(0)
      expect(server.output().trim()).toBe(line())
      // Never a plain HTTP server instead: nothing answers on its port.
      const refused = await new Promise<string>((resolve) => {
        const socket = connectTcp(server.port, '127.0.0.1', () => {
          socket.destroy()
          resolve('connected')
        })
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
      })
      expect(refused).toBe('ECONNREFUSED')
    },
  )
})
