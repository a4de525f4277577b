/**
 * A stream that stays quiet for 12 s must survive on every runtime. Bun cuts a
 * connection idle for 10 s unless told otherwise; proxies do similar things,
 * which is what keep-alive comments (every SSE_KEEPALIVE_MS) are for.
 */
import { describe, expect, it } from 'vitest'
import { runtimes, startServer } from '../support/servers.ts'

describe.concurrent.each(runtimes)('%s', (runtime) => {
  it('delivers a frame after a silent 12 s gap', async () => {
    const server = await startServer(runtime, { SSE_FRAMES: '1', SSE_INTERVAL_MS: '12000' })
    try {
      const res = await fetch(new URL('events', server.url))
      expect(await res.text()).toBe('retry: 3000\n\nid: 1\ndata: Message 1\n\n')
    } finally {
      await server.stop()
    }
  })

  it('sends keep-alive comments while waiting', async () => {
    const server = await startServer(runtime, { SSE_FRAMES: '1', SSE_INTERVAL_MS: '1000', SSE_KEEPALIVE_MS: '300' })
    try {
      const res = await fetch(new URL('events', server.url))
      expect(await res.text()).toBe('retry: 3000\n\n:\n:\n:\nid: 1\ndata: Message 1\n\n')
    } finally {
      await server.stop()
    }
  })
})
