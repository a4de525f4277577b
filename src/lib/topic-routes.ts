/**
 * The demo's topics over HTTP: `GET /topics/:name` subscribes (SSE),
 * `POST /topics/:name` publishes with the publish token. Written once against
 * a `TopicStore`, so the routes answer the same whether topics live in this
 * process, in Redis or in Durable Objects. Every bad request gets a status
 * that says what was wrong and reaches no subscriber.
 */
import type { Context, Hono } from 'hono'
import { bearerCheck } from './bearer.ts'
import { readLimited } from './body.ts'
import { corsHeaders, unavailableResponse } from './response.ts'
import type { TopicEvent } from './topic-event.ts'
import { TopicUnavailableError } from './topic-unavailable.ts'
import type { EventStreamResponseOptions, TopicStore } from './types.ts'

/** How the routes serve topics. */
export interface TopicRoutesOptions {
  /** Where the topics live. */
  store: TopicStore
  /** The bearer token a publish must carry; `undefined`: publishing is off (403). */
  publishToken: string | undefined
  /** The options of every subscriber's stream. */
  stream: EventStreamResponseOptions
  /** The most a client may ask for with `?last=`: the store's history. */
  history: number
}

/** What a topic name may be in the demo: it is a path segment, a Redis key part and a Durable Object name. */
export const TOPIC_NAME = /^[A-Za-z0-9_-]{1,64}$/
const NAME_RULE = 'a topic name is 1 to 64 letters, digits, "-" or "_"'

/** The largest body a publish may have. */
export const MAX_PUBLISH_BYTES = 64 * 1024

const ALLOW = 'GET, HEAD, POST, OPTIONS'
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

type Refusal = 400 | 401 | 403 | 405 | 413 | 415 | 503

/** The event a body carries: `text/plain` is the data, JSON is `{ "event"?, "data" }`; a string is why not. */
function eventOf(type: string, body: Uint8Array): TopicEvent | string {
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    return 'the body is not UTF-8'
  }
  if (type === 'text/plain') return { data: text }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return 'the body is not JSON'
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return 'the JSON body must be an object { "event"?: string, "data": string }'
  }
  return parsed as TopicEvent
}

/** Adds `/topics/:name` to `app`. */
export function addTopicRoutes(app: Hono, options: TopicRoutesOptions): void {
  const { store, publishToken, stream, history } = options
  const cors = corsHeaders(stream)
  const authorized = publishToken === undefined ? undefined : bearerCheck(publishToken)
  // 401, 403, 413 … with a one-line reason: what a curl user reads.
  const refuse = (c: Context, status: Refusal, reason: string, headers: Record<string, string> = {}) =>
    c.text(`${reason}\n`, status, { ...cors, ...headers })

  app.on(['GET', 'HEAD'], '/topics/:name', async (c) => {
    const name = c.req.param('name')
    if (!TOPIC_NAME.test(name)) return refuse(c, 400, NAME_RULE)
    const raw = c.req.query('last')
    const last = raw === undefined ? 0 : Number(raw)
    if (!/^\d{1,7}$/.test(raw ?? '0') || last > history) {
      return refuse(c, 400, `last must be an integer from 0 to ${history}`)
    }
    const options = { ...stream, last }
    try {
      return await store.response(c.req.raw, name, options)
    } catch (error) {
      // A store that is down now comes back: EventSource must not take it as the end.
      if (error instanceof TopicUnavailableError) return unavailableResponse(c.req.raw, options, error.message)
      throw error
    }
  })

  app.post('/topics/:name', async (c) => {
    const name = c.req.param('name')
    if (!TOPIC_NAME.test(name)) return refuse(c, 400, NAME_RULE)
    if (!authorized) return refuse(c, 403, 'publishing is off: the server has no SSE_PUBLISH_TOKEN')
    if (!(await authorized(c.req.header('Authorization') ?? null))) {
      return refuse(c, 401, 'publishing needs Authorization: Bearer <SSE_PUBLISH_TOKEN>', {
        'WWW-Authenticate': 'Bearer realm="publish"',
      })
    }
    const type = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (type !== 'text/plain' && type !== 'application/json') {
      return refuse(c, 415, 'the body must be text/plain (the data) or application/json ({ "event"?, "data" })', {
        'Accept-Post': 'text/plain, application/json',
      })
    }
    const body = await readLimited(c.req.raw, MAX_PUBLISH_BYTES)
    if (!body) return refuse(c, 413, `the body must be at most ${MAX_PUBLISH_BYTES} bytes`)
    const event = eventOf(type, body)
    if (typeof event === 'string') return refuse(c, 400, event)
    const idempotencyKey = c.req.header('Idempotency-Key')
    try {
      const id = await store.publish(name, event, idempotencyKey === undefined ? {} : { idempotencyKey })
      return c.json({ id }, 201, cors)
    } catch (error) {
      if (error instanceof TypeError) return refuse(c, 400, error.message)
      // The store comes back on its own; a retry with the same Idempotency-Key is applied once.
      if (error instanceof TopicUnavailableError) return refuse(c, 503, error.message, { 'Retry-After': '1' })
      throw error
    }
  })

  app.options('/topics/:name', (c) =>
    c.body(null, 204, {
      Allow: ALLOW,
      ...cors,
      'Access-Control-Allow-Methods': ALLOW,
      'Access-Control-Allow-Headers': 'Last-Event-ID, Cache-Control, Authorization, Content-Type, Idempotency-Key',
      'Access-Control-Max-Age': '86400',
    }),
  )

  app.all('/topics/:name', (c) => refuse(c, 405, 'Method Not Allowed', { Allow: ALLOW }))
}
