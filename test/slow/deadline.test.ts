/**
 * The header deadline never cuts an open event stream: with a 1 s
 * SSE_HEADERS_TIMEOUT_MS, a stream silent for 15 s (its frame 15 s away, no
 * keep-alive comments) still delivers on every standalone runtime, over plain
 * HTTP/1.1, HTTP/2 and HTTP/1.1 under TLS. On Bun that is `idleTimeout`
 * turned off for streams alone.
 */
import { describe, expect, it } from 'vitest'
import { makeCert, tlsEnv } from '../support/certs.ts'
import { standaloneRuntimes, startServer } from '../support/servers.ts'
import { h2Connect, h2Request, h2Text, https1Get } from '../support/tls-clients.ts'

const env = {
  SSE_HEADERS_TIMEOUT_MS: '1000',
  SSE_FRAMES: '1',
  SSE_INTERVAL_MS: '15000',
  SSE_KEEPALIVE_MS: '3600000',
}
const stream = 'retry: 3000\n\nid: 1\ndata: Message 1\n\n'

describe.concurrent.each(standaloneRuntimes)('%s', (runtime) => {
  it('keeps a stream silent for 15 s open over HTTP/1.1, HTTP/2 and HTTP/1.1 under TLS', async () => {
    const cert = await makeCert()
    const [plain, secure] = await Promise.all([
      startServer(runtime, env),
      startServer(runtime, { ...env, ...tlsEnv(cert) }),
    ])
    const session = await h2Connect(secure.url, cert.cert)
    try {
      const bodies = await Promise.all([
        fetch(new URL('events', plain.url)).then((res) => res.text()),
        h2Request(session, '/events').then((res) => h2Text(res.stream)),
        https1Get(secure.url, '/events', cert.cert).then((res) => res.body),
      ])
      expect(bodies).toEqual([stream, stream, stream])
    } finally {
      session.close()
      await Promise.all([plain.stop(), secure.stop()])
      cert.remove()
    }
  })
})
