/** Peer: Hono's own `streamSSE` helper (hono/streaming) on @hono/node-server, the idiomatic Hono way. */
import process from 'node:process'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'

const frames = Number(process.env.SSE_FRAMES ?? 5)
const intervalMs = Number(process.env.SSE_INTERVAL_MS ?? 1000)

const app = new Hono()
app.get('/events', (c) =>
  streamSSE(c, async (stream) => {
    for (let n = 1; n <= frames && !stream.aborted; n++) {
      await stream.sleep(intervalMs)
      await stream.writeSSE({ id: String(n), data: `Message ${n}` })
    }
  }),
)

serve({ fetch: app.fetch, hostname: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
