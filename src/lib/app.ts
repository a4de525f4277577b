/**
 * The demo as a Hono app every runtime serves: `GET /events` streams the
 * frames (one use of `eventStreamResponse`), `/topics/:name` subscribes and
 * publishes (topic-routes.ts), everything else is a static asset or a 404.
 * Mount it anywhere with `parent.route('/sse', createApp())`.
 */
import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { checkToken } from './bearer.ts'
import { frames } from './frames.ts'
import { StreamRegistry } from './registry.ts'
import { corsHeaders, eventStreamResponse } from './response.ts'
import { checkSettings, type Settings } from './settings.ts'
import { addTopicRoutes } from './topic-routes.ts'
import { Topics } from './topics.ts'
import type { EventStreamResponseOptions, StreamEnd, TopicStore } from './types.ts'

/** Options of {@link createApp}; every field is optional. */
export interface AppOptions {
  /** Stream settings; unset fields take {@link defaultSettings}. Checked: a bad one throws a `SettingsError`. */
  settings?: Partial<Settings>
  /** The data of frame `id`. Default `Message <id>`. If it throws, that stream ends cleanly with reason `error`. */
  message?: (id: number) => string
  /**
   * The registry of open streams to share with your own
   * `eventStreamResponse()` routes: one cap for all, one `shutdown()` that
   * closes all. Default: a registry of the app's own, capped by
   * `settings.maxStreams` (then give the cap to the registry, not in `settings`).
   */
  streams?: StreamRegistry
  /** `Access-Control-Allow-Origin` of `/events`: `'*'` (default), one origin, or `null` for none. */
  allowOrigin?: string | null
  /** The runtime's static file handler for public/, tried after the routes. Workers serve assets themselves. */
  serveStatic?: MiddlewareHandler
  /** Called once per stream when it ends. Default: one JSON log line on stdout. */
  onStreamEnd?: (end: StreamEnd) => void
  /** Called with the request of each stream as it opens (see {@link EventStreamResponseOptions.onOpen}). */
  onStreamOpen?: (request: Request) => void
  /**
   * Where `/topics/:name` keeps its topics. Default: `Topics` in this process,
   * holding `settings.topicHistory` events for `settings.topicHistoryMs`.
   */
  topics?: TopicStore
  /**
   * The token `POST /topics/:name` needs as `Authorization: Bearer <token>`:
   * 16 to 256 printable ASCII characters. Default: none, and publishing is off.
   */
  publishToken?: string
}

const ALLOW = 'GET, HEAD, OPTIONS'

// The page loads only its own files; public/_headers says the same on Workers.
const CONTENT_SECURITY_POLICY = "default-src 'self'"

/** The default `onStreamEnd`: one JSON line per stream. */
export function logStreamEnd(end: StreamEnd): void {
  console.log(JSON.stringify({ msg: 'stream end', ...end }))
}

/** Builds the demo app; mount it anywhere with `parent.route('/sse', createApp())`. */
export function createApp(options: AppOptions = {}): Hono {
  const settings = checkSettings(options.settings)
  if (options.streams && (options.settings?.maxStreams !== undefined || options.settings?.busyRetryMs !== undefined)) {
    throw new TypeError('createApp: give maxStreams and busyRetryMs to the StreamRegistry passed as streams')
  }
  const { maxStreams, busyRetryMs } = settings
  const stream: EventStreamResponseOptions = {
    retry: settings.retryMs,
    // Frames never come further apart than intervalMs, so with intervalMs ≤
    // keepAliveMs the stream is never quiet that long: no keep-alive timer.
    keepAliveMs: settings.intervalMs <= settings.keepAliveMs ? 0 : settings.keepAliveMs,
    streams: options.streams ?? new StreamRegistry({ maxStreams, busyRetryMs }),
    onEnd: options.onStreamEnd ?? logStreamEnd,
    onOpen: options.onStreamOpen,
    allowOrigin: options.allowOrigin,
  }
  const cors = corsHeaders(stream) // checks allowOrigin now, not at the first request
  const source = frames(settings, options.message)
  const publishToken = options.publishToken === undefined ? undefined : checkToken('publishToken', options.publishToken)
  const app = new Hono()

  addTopicRoutes(app, {
    store: options.topics ?? new Topics({ history: settings.topicHistory, historyMs: settings.topicHistoryMs }),
    publishToken,
    // A topic can be quiet for long: its streams keep alive.
    stream: { ...stream, keepAliveMs: settings.keepAliveMs },
    history: settings.topicHistory,
  })

  app.get('/events', (c) => eventStreamResponse(c.req.raw, source, stream))

  app.options('/events', (c) =>
    c.body(null, 204, {
      Allow: ALLOW,
      ...cors,
      'Access-Control-Allow-Methods': ALLOW,
      'Access-Control-Allow-Headers': 'Last-Event-ID, Cache-Control',
      'Access-Control-Max-Age': '86400',
    }),
  )

  app.all('/events', (c) => c.text('Method Not Allowed', 405, { Allow: ALLOW }))

  if (options.serveStatic) {
    app.use('/*', async (c, next) => {
      await next()
      c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      c.header('X-Content-Type-Options', 'nosniff')
    })
    // No file name holds a NUL byte, and Bun's file lookup throws on one.
    app.use('/*', async (c, next) => {
      if (/%00|\0/.test(c.req.path)) return c.text('Bad Request', 400)
      await next()
    })
    app.use('/*', options.serveStatic)
  }

  app.notFound((c) => c.text('Not Found', 404))
  app.onError((error, c) => {
    console.error(JSON.stringify({ msg: 'request failed', error: String(error) }))
    return c.text('Internal Server Error', 500)
  })

  return app
}
