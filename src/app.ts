/**
 * The one Hono app every runtime serves: `GET /events` streams the frames,
 * everything else is a static asset or a 404. Runtime entries only add
 * listening and static file serving around it.
 */

import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { encodeComment, encodeEvent } from './encoder.ts'
import { lastEventId } from './last-event-id.ts'
import type { Settings } from './settings.ts'
import { defaultSettings } from './settings.ts'
import type { OpenStream, StreamEnd } from './stream.ts'
import { createEventStream, defaultMessage, pendingTimers } from './stream.ts'

export interface AppOptions {
  /** Stream settings; unset fields take {@link defaultSettings}. */
  settings?: Partial<Settings>
  /** The data of frame `id`. Default `Message <id>`. */
  message?: (id: number) => string
  /** The runtime's static file handler for public/, tried after the routes. Workers serve assets themselves. */
  serveStatic?: MiddlewareHandler
  /** Aborting it closes every open stream between two frames and turns new ones away like the stream cap. */
  shutdown?: AbortSignal
  /** Called once per stream when it ends. Default: one JSON log line on stdout. */
  onStreamEnd?: (end: StreamEnd) => void
  /**
   * Serve `GET /debug/streams` (open streams and pending timers) and
   * `GET /debug/failing-stream` (a stream whose frame 2 throws). Off by
   * default: they are for soak and failure tests.
   */
  debug?: boolean
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

/**
 * The answer past the stream cap, or while shutting down. EventSource treats
 * any status but 200 as final and never comes back, so it gets a 200 stream
 * holding only `retry:` and closes: the browser reconnects later with its
 * Last-Event-ID. Other clients get 503 with Retry-After.
 */
function busy(c: Context, retryMs: number, reason: string): Response {
  if (c.req.header('Accept')?.includes('text/event-stream')) {
    return c.body(`${encodeEvent({ retry: retryMs })}${encodeComment(reason)}`, 200, STREAM_HEADERS)
  }
  return c.text(`Service Unavailable: ${reason}`, 503, { 'Retry-After': String(Math.ceil(retryMs / 1000)) })
}

/** Builds the app; mount it anywhere with `parent.route('/sse', createApp())`. */
export function createApp(options: AppOptions = {}): Hono {
  const settings = { ...defaultSettings, ...options.settings }
  const { message, shutdown, onStreamEnd = logStreamEnd } = options
  const openStreams = new Set<OpenStream>()
  shutdown?.addEventListener('abort', () => {
    for (const stream of openStreams) stream.shutdown()
  })
  const app = new Hono()

  const respond = (c: Context, after: number, data = message) => {
    const body = createEventStream({
      ...settings,
      lastEventId: after,
      message: data,
      signal: c.req.raw.signal,
      openStreams,
      onEnd: onStreamEnd,
    })
    // A plain Response with a plain header object: @hono/node-server then
    // writes it without building a Headers object (1 KiB less per stream).
    return new Response(body, { headers: STREAM_HEADERS })
  }

  app.get('/events', (c) => {
    const after = lastEventId(c.req.raw)
    // 204 tells EventSource the stream is over: it stops reconnecting.
    if (after >= settings.frames) return c.body(null, 204, { 'Access-Control-Allow-Origin': '*' })
    // HEAD: the headers a GET would get, and no stream, so no timer.
    if (c.req.method === 'HEAD') return c.body(null, 200, STREAM_HEADERS)
    if (shutdown?.aborted) return busy(c, settings.retryMs, 'shutting down')
    if (settings.maxStreams > 0 && openStreams.size >= settings.maxStreams) {
      return busy(c, settings.busyRetryMs, 'too many open streams')
    }
    return respond(c, after)
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

  if (options.debug) {
    app.get('/debug/streams', (c) => c.json({ open: openStreams.size, timers: pendingTimers() }))
    app.get('/debug/failing-stream', (c) =>
      respond(c, 0, (id) => {
        if (id === 2) throw new Error('debug: frame 2 failed')
        return defaultMessage(id)
      }),
    )
  }

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
