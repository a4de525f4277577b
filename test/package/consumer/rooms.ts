/**
 * Chat rooms on Node, Bun and Deno: GET /rooms/:room streams a room's
 * messages (the newest ten first, then live, resumable from Last-Event-ID),
 * POST /rooms/:room publishes the request's text to it. The topics live in
 * this process: several processes share them through RedisTopics
 * (edge-sse/redis), and a Worker through DurableTopics (edge-sse/cloudflare).
 */
import { Topics } from 'edge-sse'
import { Hono } from 'hono'

// Each room holds its last 100 messages, for an hour at most.
const topics = new Topics({ history: 100, historyMs: 3_600_000 })

export const rooms = new Hono()

// Accept only the names of your app's rooms: each name held makes a topic.
rooms.use('/:room', async (c, next) => {
  if (!/^[a-z0-9-]{1,32}$/.test(c.req.param('room'))) return c.notFound()
  await next()
})

rooms.get('/:room', (c) => topics.response(c.req.raw, c.req.param('room'), { retry: 3000, last: 10 }))

rooms.post('/:room', async (c) => {
  // Check here who may publish: as written, anyone can.
  const id = topics.publish(c.req.param('room'), { event: 'message', data: await c.req.text() })
  return c.json({ id }, 201)
})
