/**
 * Topics on Workers: each topic is a Durable Object (TopicObject) that holds
 * its history and its clients, whichever isolate a request reaches.
 * GET /rooms/:room streams a room's messages (resumable from Last-Event-ID);
 * POST /rooms/:room publishes the request's text to it.
 */
import { DurableTopics } from 'edge-sse/cloudflare'
import { Hono } from 'hono'

// The runtime makes each topic's object from this class: wrangler.toml binds it as TOPICS.
export { TopicObject } from 'edge-sse/cloudflare'

const app = new Hono<{ Bindings: Env }>()

// Each room name makes a Durable Object: accept only the names of your app's rooms.
app.use('/rooms/:room', async (c, next) => {
  if (!/^[a-z0-9-]{1,32}$/.test(c.req.param('room'))) return c.notFound()
  await next()
})

// The same options in every isolate: a topic holds its last 100 messages, for an hour at most.
const rooms = (env: Env) => new DurableTopics(env.TOPICS, { history: 100, historyMs: 3_600_000 })

app.get('/rooms/:room', (c) => rooms(c.env).response(c.req.raw, c.req.param('room'), { retry: 3000, last: 10 }))

app.post('/rooms/:room', async (c) => {
  // Check here who may publish: as written, anyone can.
  const id = await rooms(c.env).publish(c.req.param('room'), { event: 'message', data: await c.req.text() })
  return c.json({ id }, 201)
})

export default app
