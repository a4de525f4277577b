/**
 * The shapes a user of the library writes against: where events come from,
 * how a stream is configured, and what it reports when it ends.
 */
import type { ServerSentEvent } from './encoder.ts'
import type { StreamRegistry } from './registry.ts'
import type { PublishOptions, TopicEvent } from './topic-event.ts'

/** Events, one at a time: an array, a generator, an async generator, a stream's async iterator. */
export type EventIterable = Iterable<ServerSentEvent> | AsyncIterable<ServerSentEvent>

/** What a source function is given for one client. */
export interface SourceContext {
  /**
   * The id the client already has: its `Last-Event-ID` header, or else its
   * `lastEventId` query parameter (for polyfills that cannot set headers);
   * `undefined` when it sent neither or an empty one. Sent by the client:
   * validate it before you use it.
   */
  readonly lastEventId: string | undefined
  /**
   * Aborts when the stream stops before the source is done: the client left,
   * the server is shutting down, or the source yielded an event the encoder
   * refused. Pass it to whatever the source waits on (`fetch`, a timer, a
   * query): on Workers a pending timer of a request whose client has gone may
   * never fire, so only the abort can end that wait.
   */
  readonly signal: AbortSignal
}

/**
 * Where a stream's events come from: an iterable, or a function called once
 * per client that returns one, or `null` when the client already has
 * everything (the response is then `204 No Content`, which tells
 * `EventSource` to stop reconnecting).
 */
export type StreamSource = EventIterable | ((context: SourceContext) => EventIterable | null)

/** Why a stream ended: the source was done, the client left, the server is stopping, or something failed. */
export type EndReason = 'complete' | 'cancelled' | 'shutdown' | 'error'

/** What {@link EventStreamOptions.onEnd} is told once per stream. */
export interface StreamEnd {
  /** Why it ended. */
  reason: EndReason
  /** Events sent (not counting the opening `retry:` field or keep-alive comments). */
  events: number
  /**
   * What went wrong, when `reason` is `error`: the source threw, yielded an
   * event the encoder refused, or was not an iterable. Never sent to the client.
   */
  error?: string
}

/** How a stream behaves; every field is optional. */
export interface EventStreamOptions {
  /**
   * The client's reconnection time in milliseconds, sent as `retry:` first
   * thing. Default: none, and the stream opens with an empty comment instead,
   * so that every runtime sends the headers at once (Bun holds them until the
   * first chunk).
   */
  retry?: number
  /**
   * Longest silence, in milliseconds, before a keep-alive comment (`:`) while
   * the source is quiet, so proxies do not cut an idle connection. `0` turns
   * keep-alives off. Default 15000.
   */
  keepAliveMs?: number
  /** The registry whose cap this stream counts against and whose shutdown closes it. Default: none. */
  streams?: StreamRegistry
  /** Called exactly once when the stream ends, for logging and bookkeeping. */
  onEnd?: (end: StreamEnd) => void
}

/** Options of {@link createEventStream}: a stream with no request around it. */
export interface CreateEventStreamOptions extends EventStreamOptions {
  /** Given to a source function as {@link SourceContext.lastEventId}. Default `undefined`. */
  lastEventId?: string
  /** The client is gone: pass `request.signal`, since some runtimes (workerd) never cancel the body. */
  signal?: AbortSignal
}

/** Options of {@link eventStreamResponse}. */
export interface EventStreamResponseOptions extends EventStreamOptions {
  /**
   * `Access-Control-Allow-Origin` on every answer: `'*'` (the default), one
   * origin (`'https://app.example'`, for cookie auth with
   * `withCredentials`), or `null` to send none (same-origin only).
   */
  allowOrigin?: string | null
  /**
   * More response headers, e.g. `{ 'Access-Control-Allow-Credentials': 'true' }`.
   * Hop-by-hop headers (`Connection`, `Keep-Alive`, `Transfer-Encoding`,
   * `Upgrade`, `Proxy-Connection`, `TE`) are refused: they are illegal in HTTP/2.
   */
  headers?: Record<string, string>
  /**
   * Called with the request when it is answered with a stream (not for 204,
   * `HEAD` or a client turned away), e.g. to exempt it from a server's idle
   * timeout: `onOpen: (request) => server.timeout(request, 0)` on Bun.
   */
  onOpen?: (request: Request) => void
}

/** How a client starts reading a topic. */
export interface SubscribeOptions {
  /**
   * A client without `Last-Event-ID` first gets this many of the newest held
   * events (at most the history), then live ones. Default 0: live events only.
   */
  last?: number
}

/** Options of a topic store's `response()`: the stream's own, and how the client starts. */
export interface TopicResponseOptions extends EventStreamResponseOptions, SubscribeOptions {}

/**
 * Where topics live: in this process (`Topics`), in Redis (`edge-sse/redis`)
 * or in Durable Objects (`edge-sse/cloudflare`). The same two calls on each,
 * so routes are written once.
 */
export interface TopicStore {
  /**
   * Appends `event` to topic `name`; returns (or resolves to) the id it got.
   * A refused event throws a `TypeError`; a store that cannot be reached
   * rejects with a `TopicUnavailableError`.
   */
  publish(name: string, event: TopicEvent, options?: PublishOptions): string | Promise<string>
  /** Answers `request` with the event stream of topic `name`. */
  response(request: Request, name: string, options?: TopicResponseOptions): Response | Promise<Response>
}
