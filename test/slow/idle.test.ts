/**
 * A stream that stays quiet for 12 s must survive on every runtime. Bun cuts a
 * connection idle for 10 s unless told otherwise; proxies do similar things,
 * which is what keep-alive comments (every SSE_KEEPALIVE_MS) are for.
 */
import { describe, expect, it } from 'vitest'
import { runtimes, startServer } from '../support/servers.ts'
import { arrivals, CLOCK_ROUNDING_MS, readTimed } from '../support/timed-read.ts'

const KEEPALIVE_MS = 300

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
    const server = await startServer(runtime, {
      SSE_FRAMES: '1',
      SSE_INTERVAL_MS: '1000',
      SSE_KEEPALIVE_MS: String(KEEPALIVE_MS),
    })
    try {
      const sentAt = performance.now()
      const chunks = await readTimed(await fetch(new URL('events', server.url)), sentAt)
      // A comment each time the stream has been quiet 300 ms, before the frame
      // 1000 ms in: three if every timer is on time, fewer if one is late, as
      // each period counts from the last write. So not the count: at least
      // one, and the k-th no sooner than k periods after the request.
      const comments = arrivals(chunks, /^:\n/gm)
      expect(chunks.map((chunk) => chunk.text).join('')).toBe(
        `retry: 3000\n\n${':\n'.repeat(comments.length)}id: 1\ndata: Message 1\n\n`,
      )
      expect(comments.length).toBeGreaterThanOrEqual(1)
      for (const [i, at] of comments.entries()) {
        expect(at).toBeGreaterThanOrEqual((i + 1) * (KEEPALIVE_MS - CLOCK_ROUNDING_MS))
      }
    } finally {
      await server.stop()
    }
  })
})
