/**
 * Connections that never finish a request (slowloris) must not pile up: with
 * a short SSE_HEADERS_TIMEOUT_MS each standalone server closes them, over
 * plain HTTP/1.1, TLS and HTTP/2, as far as its runtime allows (README,
 * "Operating it"), while an event stream quieter than the deadline stays open;
 * so are connections left idle after their stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCert, type TestCert, tlsEnv } from '../support/certs.ts'
import { type RunningServer, spawnServer, standaloneRuntimes, startServer } from '../support/servers.ts'
import {
  afterStreamKinds,
  describeKind,
  openSlowClient,
  plainKinds,
  type SlowClient,
  type SlowKind,
  tlsKinds,
} from '../support/slow-clients.ts'
import { h2Connect, h2Request, h2Text, https1Get } from '../support/tls-clients.ts'

const DEADLINE_MS = 1000
// Slow clients of each kind at once: enough to see a pile-up not form.
const EACH = 5
// Frames 3 s apart and no keep-alive comments: silent for three deadlines.
const QUIET_MS = 3000
const env = {
  SSE_HEADERS_TIMEOUT_MS: String(DEADLINE_MS),
  SSE_FRAMES: '1',
  SSE_INTERVAL_MS: String(QUIET_MS),
  SSE_KEEPALIVE_MS: '3600000',
}
const quietStream = 'retry: 3000\n\nid: 1\ndata: Message 1\n\n'

type Expected = { closedWithin: [number, number] } | 'stays open'

// Node: its header timeout, checked every second, for HTTP/1.1; its TLS
// handshake timeout; our own for HTTP/2 sessions; its keep-alive timeout (5 s)
// after a response, which we set on the secure server too. Bun: its idle timeout (whole seconds, checked every 4 s)
// for HTTP/2 sessions; Bun's own fixed 10 s for request heads and handshakes,
// which no option changes; a stream's own timeout (2 × SSE_KEEPALIVE_MS) that
// stays on its HTTP/1.1 connection. Deno: nothing (denoland/deno#3515).
function expected(runtime: string, kind: SlowKind): Expected {
  const deadline = { closedWithin: [DEADLINE_MS - 100, DEADLINE_MS + 4000] } satisfies Expected
  if (runtime === 'node') return kind.endsWith('kept-alive') ? { closedWithin: [4000, 9000] } : deadline
  if (runtime === 'bun') {
    if (kind.startsWith('h2-')) return { closedWithin: [DEADLINE_MS - 100, 9000] }
    return kind.endsWith('kept-alive') ? { closedWithin: [1900, 9000] } : { closedWithin: [9000, 18_000] }
  }
  return 'stays open'
}

/** Waits for each client as long as `runtime` may take, and checks when (or that not) it was closed. */
async function expectClosed(runtime: string, clients: { kind: SlowKind; client: SlowClient }[]) {
  const outcomes = await Promise.all(
    clients.map(async ({ kind, client }) => {
      const want = expected(runtime, kind)
      const waitMs = want === 'stays open' ? QUIET_MS : want.closedWithin[1]
      const ms = await Promise.race([client.closed, new Promise<number>((r) => setTimeout(r, waitMs, -1))])
      return { kind, want, ms: Math.round(ms) }
    }),
  )
  for (const { kind, want, ms } of outcomes) {
    const what = `a client that ${describeKind[kind]}`
    if (want === 'stays open') expect(ms, `${what}: still open`).toBe(-1)
    else {
      expect(ms, `${what}: closed`).toBeGreaterThanOrEqual(want.closedWithin[0])
      expect(ms, `${what}: closed`).toBeLessThanOrEqual(want.closedWithin[1])
    }
  }
}

let cert: TestCert
beforeAll(async () => {
  cert = await makeCert()
})
afterAll(() => cert?.remove())

describe.each(standaloneRuntimes)('%s', (runtime) => {
  let plain: RunningServer
  let secure: RunningServer
  beforeAll(async () => {
    ;[plain, secure] = await Promise.all([startServer(runtime, env), startServer(runtime, { ...env, ...tlsEnv(cert) })])
  })
  afterAll(() => Promise.all([plain?.stop(), secure?.stop()]))

  it('closes connections that never finish a request, and not the streams', async () => {
    // Streams quieter than the deadline, opened first and read to the end.
    const streams = Promise.all([
      fetch(new URL('events', plain.url)).then((res) => res.text()),
      https1Get(secure.url, '/events', cert.cert).then((res) => res.body),
      h2Connect(secure.url, cert.cert).then(async (session) => {
        try {
          return await h2Text((await h2Request(session, '/events')).stream)
        } finally {
          session.close()
        }
      }),
    ])
    const kinds = [
      ...plainKinds.map((kind) => ({ kind, server: plain })),
      ...tlsKinds.map((kind) => ({ kind, server: secure })),
    ]
    const clients = kinds.flatMap(({ kind, server }) =>
      Array.from({ length: EACH }, () => ({ kind, client: openSlowClient(kind, server.url, cert.cert) })),
    )
    try {
      await expectClosed(runtime, clients)
      expect(await streams).toEqual([quietStream, quietStream, quietStream])
      // And both servers serve on.
      expect((await fetch(plain.url)).status).toBe(200)
      expect((await https1Get(secure.url, '/', cert.cert)).status).toBe(200)
    } finally {
      for (const { client } of clients) client.destroy()
    }
  })

  it('refuses an SSE_HEADERS_TIMEOUT_MS out of range', async () => {
    const server = await spawnServer(runtime, { SSE_HEADERS_TIMEOUT_MS: '500' })
    expect(await server.exited).toBe(1)
    expect(server.output().trim()).toBe('SSE_HEADERS_TIMEOUT_MS must be an integer from 1000 to 120000, got "500"')
  })

  it('closes connections left idle after a whole stream', async () => {
    // Short streams, and keep-alives every second: Bun gives a stream twice that.
    const short = {
      SSE_HEADERS_TIMEOUT_MS: String(DEADLINE_MS),
      SSE_FRAMES: '1',
      SSE_INTERVAL_MS: '10',
      SSE_KEEPALIVE_MS: '1000',
    }
    const [http, https] = await Promise.all([
      startServer(runtime, short),
      startServer(runtime, { ...short, ...tlsEnv(cert) }),
    ])
    const clients = afterStreamKinds.map((kind) => ({
      kind,
      client: openSlowClient(kind, kind === 'kept-alive' ? http.url : https.url, cert.cert),
    }))
    try {
      await expectClosed(runtime, clients)
    } finally {
      for (const { client } of clients) client.destroy()
      await Promise.all([http.stop(), https.stop()])
    }
  })

  if (runtime === 'deno') {
    it('says at start that SSE_HEADERS_TIMEOUT_MS has no effect', () => {
      expect(plain.output()).toContain(
        'SSE_HEADERS_TIMEOUT_MS has no effect on Deno: Deno.serve has no header deadline (denoland/deno#3515)',
      )
    })
  }
})
