/**
 * The chat rooms of rooms.ts with their topics in Redis: the same routes, and
 * every process on one Redis serves every room, so a client may reconnect to
 * any of them. Put it in place of rooms.ts; Deno needs the full --allow-env
 * (ioredis reads the environment when it loads).
 */
import { RedisTopics, TopicUnavailableError } from 'edge-sse/redis'
import { Hono } from 'hono'
import { Redis } from 'ioredis' // npm i ioredis: an optional peer dependency, needed only for edge-sse/redis

// A publish fails at once while Redis is away, rather than wait in a queue and be sent late.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
})
// Each room holds its last 100 messages, for an hour at most, in Redis.
const topics = new RedisTopics({ redis, history: 100, historyMs: 3_600_000 })

export const rooms = new Hono()

// Accept only the names of your app's rooms: each name held makes a topic.
rooms.use('/:room', async (c, next) => {
  if (!/^[a-z0-9-]{1,32}$/.test(c.req.param('room'))) return c.notFound()
  await next()
})

rooms.get('/:room', (c) => {
  try {
    return topics.response(c.req.raw, c.req.param('room'), { retry: 3000, last: 10 })
  } catch (error) {
    // Redis is away and no client here reads this room: EventSource comes back after `retry`.
    if (error instanceof TopicUnavailableError)
      return c.body('retry: 3000\n\n', 200, { 'Content-Type': 'text/event-stream' })
    throw error
  }
})

rooms.post('/:room', async (c) => {
  // Check here who may publish: as written, anyone can.
  try {
    const id = await topics.publish(c.req.param('room'), { event: 'message', data: await c.req.text() })
    return c.json({ id }, 201)
  } catch (error) {
    // Redis is away: the publisher may retry (with an idempotencyKey, it is applied once).
    if (error instanceof TopicUnavailableError) return c.text(error.message, 503, { 'Retry-After': '1' })
    throw error
  }
})
