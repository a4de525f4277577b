/**
 * The one Hono app every runtime serves: `GET /events` streams the frames,
 * everything else is a static asset or a 404. Runtime entries only add
 * listening and static file serving around it.
 */

import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { lastEventId } from './last-event-id.ts'
import type { Settings } from './settings.ts'
import { defaultSettings } from './settings.ts'
import type { StreamEnd } from './stream.ts'
import { createEventStream } from './stream.ts'

export interface AppOptions {
  /** Stream settings; unset fields take {@link defaultSettings}. */
  settings?: Partial<Settings>
  /** The runtime's static file handler for public/, tried after the routes. Workers serve assets themselves. */
  serveStatic?: MiddlewareHandler
  /** Called once per stream when it ends. Default: one JSON log line on stdout. */
  onStreamEnd?: (end: StreamEnd) => void
}

// No hop-by-hop headers (Connection, Transfer-Encoding): they are illegal in
// HTTP/2, WebKit drops streams that carry them, and every runtime manages
// keep-alive itself.
const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform stops compressing proxies from buffering the stream.
  'Cache-Control': 'no-cache, no-transform',
  'Access-Control-Allow-Origin': '*',
  // nginx buffers proxied responses unless told not to.
  'X-Accel-Buffering': 'no',
}

const ALLOW = 'GET, HEAD, OPTIONS'

// The page loads only its own files; public/_headers says the same on Workers.
const CONTENT_SECURITY_POLICY = "default-src 'self'"

function logStreamEnd(end: StreamEnd): void {
  console.log(JSON.stringify({ msg: 'stream end', ...end }))
}

/** Builds the app; mount it anywhere with `parent.route('/sse', createApp())`. */
export function createApp(options: AppOptions = {}): Hono {
  const settings = { ...defaultSettings, ...options.settings }
  const onStreamEnd = options.onStreamEnd ?? logStreamEnd
  const app = new Hono()

  app.get('/events', (c) => {
    const after = lastEventId(c.req.raw)
    // 204 tells EventSource the stream is over: it stops reconnecting.
    if (after >= settings.frames) return c.body(null, 204, { 'Access-Control-Allow-Origin': '*' })
    if (c.req.method === 'HEAD') return c.body(null, 200, STREAM_HEADERS)
    const body = createEventStream({
      ...settings,
      lastEventId: after,
      signal: c.req.raw.signal,
      onEnd: onStreamEnd,
    })
    return new Response(body, { headers: STREAM_HEADERS })
  })

  app.options('/events', (c) =>
    c.body(null, 204, {
      Allow: ALLOW,
      'Access-Control-Allow-Origin': '*',
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
    app.use('/*', options.serveStatic)
  }

  app.notFound((c) => c.text('Not Found', 404))
  app.onError((error, c) => {
    console.error(JSON.stringify({ msg: 'request failed', error: String(error) }))
    return c.text('Internal Server Error', 500)
  })

  return app
}
