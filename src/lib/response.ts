/**
 * The whole answer to one SSE request: the event stream in a `Response` with
 * the headers every proxy and browser needs, `204` when the client already has
 * everything, headers only for `HEAD`, and the answer past the stream cap.
 */
import { encodeComment, encodeEvent } from './encoder.ts'
import { EventPump } from './event-stream.ts'
import { lastEventId } from './last-event-id.ts'
import type { EventStreamResponseOptions, StreamSource } from './types.ts'

// No hop-by-hop headers (Connection, Transfer-Encoding): they are illegal in
// HTTP/2, WebKit drops streams that carry them, and every runtime manages
// keep-alive itself.
const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform stops compressing proxies from buffering the stream.
  'Cache-Control': 'no-cache, no-transform',
  'Access-Control-Allow-Origin': '*',
  // nginx buffers proxied responses unless told not to.
  'X-Accel-Buffering': 'no',
}
const ANY_ORIGIN: Readonly<Record<string, string>> = { 'Access-Control-Allow-Origin': '*' }

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te'])

/** The headers of every answer: CORS as configured, plus the caller's own; checked once per call. */
export function corsHeaders(
  options: Pick<EventStreamResponseOptions, 'allowOrigin' | 'headers'>,
): Record<string, string> {
  const { allowOrigin = '*', headers } = options
  if (allowOrigin === '*' && headers === undefined) return ANY_ORIGIN
  if (allowOrigin !== null && (typeof allowOrigin !== 'string' || /[\r\n]/.test(allowOrigin) || allowOrigin === '')) {
    throw new TypeError(`allowOrigin must be '*', an origin or null, got ${JSON.stringify(allowOrigin)}`)
  }
  const cors: Record<string, string> = allowOrigin === null ? {} : { 'Access-Control-Allow-Origin': allowOrigin }
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (HOP_BY_HOP.has(name.toLowerCase())) throw new TypeError(`header ${name} is hop-by-hop, illegal in HTTP/2`)
    cors[name] = value
  }
  return cors
}

/** The headers of a stream: the SSE ones with `cors` (from {@link corsHeaders}) in place of the default CORS. */
export function streamHeaders(cors: Record<string, string>): Record<string, string> {
  if (cors === ANY_ORIGIN) return STREAM_HEADERS as Record<string, string>
  const headers = { ...STREAM_HEADERS }
  delete headers['Access-Control-Allow-Origin']
  return Object.assign(headers, cors)
}

/**
 * The answer past the stream cap or while shutting down. EventSource treats
 * any status but 200 as final and never comes back, so it gets a 200 that
 * holds only `retry:` and closes: the browser reconnects later with its
 * Last-Event-ID. Other clients get 503 with Retry-After.
 */
function busyResponse(
  request: Request,
  headers: Record<string, string>,
  cors: Record<string, string>,
  retryMs: number | undefined,
  reason: string,
): Response {
  if (request.headers.get('Accept')?.includes('text/event-stream')) {
    const retry = retryMs === undefined ? '' : encodeEvent({ retry: retryMs })
    return new Response(`${retry}${encodeComment(reason)}`, { headers })
  }
  const after: Record<string, string> =
    retryMs === undefined ? {} : { 'Retry-After': String(Math.ceil(retryMs / 1000)) }
  return new Response(`Service Unavailable: ${reason}\n`, {
    status: 503,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...after, ...cors },
  })
}

/**
 * The answer to an SSE request that cannot be served now (a topic store that
 * cannot be reached): as past the cap, `EventSource` gets a 200 holding only
 * `retry:` (its option, else 1 s) and comes back then; other clients get 503.
 */
export function unavailableResponse(request: Request, options: EventStreamResponseOptions, reason: string): Response {
  const cors = corsHeaders(options)
  return busyResponse(request, streamHeaders(cors), cors, options.retry ?? 1000, reason)
}

/**
 * Answers one SSE request with the events of `source`: a `Response` whose
 * body is a pull-based stream (see {@link createEventStream}), with the SSE
 * headers (`text/event-stream`, `no-cache, no-transform`, CORS,
 * `X-Accel-Buffering: no`).
 *
 * A source function gets the client's last event id and a signal that aborts
 * when the client leaves or the server stops; returning `null` answers `204`,
 * which ends `EventSource`'s reconnecting. `HEAD` gets the headers and no
 * stream. With `streams`, a stream past its cap or during its shutdown is
 * turned away so that clients come back later.
 *
 * @example
 * ```ts
 * app.get('/quotes', (c) =>
 *   eventStreamResponse(c.req.raw, async function* ({ lastEventId, signal }) {
 *     for await (const quote of quotesSince(lastEventId, { signal })) {
 *       yield { event: 'quote', id: quote.id, data: JSON.stringify(quote) }
 *     }
 *   }),
 * )
 * ```
 */
export function eventStreamResponse(
  request: Request,
  source: StreamSource,
  options: EventStreamResponseOptions = {},
): Response {
  const cors = corsHeaders(options)
  const headers = streamHeaders(cors)
  if (request.method === 'HEAD') return new Response(null, { headers })
  const { streams } = options
  const busy = streams?.busy
  if (streams && busy) {
    const retryMs = busy === 'shutting down' ? options.retry : streams.busyRetryMs
    return busyResponse(request, headers, cors, retryMs, busy)
  }
  const pump = new EventPump(source, options, lastEventId(request), request.signal)
  // 204 tells EventSource the stream is over: it stops reconnecting.
  if (pump.finished) return new Response(null, { status: 204, headers: cors })
  // A plain header object: @hono/node-server then writes it without building
  // a Headers object (1 KiB less per stream).
  const response = new Response(new ReadableStream(pump, { highWaterMark: 0 }), { headers })
  options.onOpen?.(request)
  return response
}
