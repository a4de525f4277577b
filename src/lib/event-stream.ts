/**
 * The event stream: a pull-based `ReadableStream` of encoded SSE frames read
 * from a source of events, the same on every runtime.
 *
 * Nothing is read from the source until the runtime asks (highWaterMark 0), so
 * a client that stops reading stops the producer, with at most one event read
 * ahead. When the stream stops before the source is done (the client left, the
 * server is stopping, an event was refused), the source's signal aborts and
 * its iterator's `return()` is called at once, from that event itself: on
 * workerd a timer or a pending `next()` of a request whose client has gone may
 * never settle, so nothing here waits for one.
 */
import { checkRetry, encodeComment, encodeEvent, type ServerSentEvent } from './encoder.ts'
import { KEEP_ALIVE } from './keep-alive.ts'
import { track, untrack } from './registry.ts'
import { armed, now } from './timers.ts'
import type { CreateEventStreamOptions, EndReason, EventStreamOptions, SourceContext, StreamSource } from './types.ts'

const encoder = new TextEncoder()
// The keep-alive comment, and the first bytes of a stream without `retry`.
const COMMENT = encoder.encode(encodeComment())
const DEFAULT_KEEP_ALIVE_MS = 15_000
// setTimeout's own limit: a longer delay fires at once.
const MAX_DELAY_MS = 2 ** 31 - 1

// The retry field is the same for every stream with the same value: encoded
// once. Bounded, so odd values cannot grow it without end.
const retryFields = new Map<number, Uint8Array>()
function retryField(retryMs: number): Uint8Array {
  let bytes = retryFields.get(retryMs)
  if (!bytes) {
    bytes = encoder.encode(encodeEvent({ retry: retryMs }))
    if (retryFields.size < 1000) retryFields.set(retryMs, bytes)
  }
  return bytes
}

// A frozen event cannot change, so many streams can share its bytes (the
// demo's frames, one broadcast to every client): encoded once, kept as long
// as the event object lives.
const frozenFrames = new WeakMap<object, Uint8Array>()
function encodeFrame(event: ServerSentEvent): Uint8Array {
  if (!Object.isFrozen(event) || typeof event !== 'object' || event === null) {
    return encoder.encode(encodeEvent(event))
  }
  let bytes = frozenFrames.get(event)
  if (!bytes) {
    bytes = encoder.encode(encodeEvent(event))
    frozenFrames.set(event, bytes)
  }
  return bytes
}

type AnyIterator = Iterator<ServerSentEvent> | AsyncIterator<ServerSentEvent>

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value
}

// The usual mistake gets its own message: `async function` where
// `async function*` was meant returns a Promise, not an iterable.
function iteratorOf(events: unknown): AnyIterator {
  const value = events as Partial<AsyncIterable<ServerSentEvent> & Iterable<ServerSentEvent>> | null
  const asyncIterator = value?.[Symbol.asyncIterator]
  if (typeof asyncIterator === 'function') return asyncIterator.call(value)
  const iterator = value?.[Symbol.iterator]
  // A string is iterable too, by character: never an event source.
  if (typeof iterator === 'function' && typeof value !== 'string') return iterator.call(value)
  if (typeof (value as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError('the event source returned a Promise, not an iterable: write `async function*`')
  }
  throw new TypeError(`an event source must be an iterable or an async iterable, got ${describe(events)}`)
}

/** What a source function sees; its signal is made only if the source asks for it. */
class Context implements SourceContext {
  readonly lastEventId: string | undefined
  readonly #pump: EventPump

  constructor(lastEventId: string | undefined, pump: EventPump) {
    this.lastEventId = lastEventId
    this.#pump = pump
  }

  get signal(): AbortSignal {
    return this.#pump.sourceSignal()
  }
}

function ignore(): void {}

/**
 * The underlying source of one stream. A class, not closures: its methods live
 * once on the prototype, so each of thousands of open streams costs one object.
 */
export class EventPump {
  /** The source function returned `null`: the client already has everything. */
  readonly finished: boolean = false
  readonly #options: EventStreamOptions
  readonly #signal: AbortSignal | undefined
  readonly #keepAliveMs: number
  #iterator: AnyIterator | undefined
  // Why the source could not even be opened; reported when the stream starts.
  #failure: { error: unknown } | undefined
  #abort: AbortController | undefined
  #controller!: ReadableStreamDefaultController<Uint8Array>
  // A next() is pending: the source owes us an event.
  #waiting = false
  // The iterator finished by itself (done, or next() threw): nothing to return().
  #sourceDone = false
  #ended = false
  #events = 0
  #lastWrite = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  // Bound once per stream, not once per event.
  readonly #receive = (result: IteratorResult<ServerSentEvent>) => {
    // Nothing may escape a promise callback as an unhandled rejection.
    try {
      this.#deliver(result)
    } catch (error) {
      this.#end('error', error)
    }
  }
  readonly #reject = (error: unknown) => this.#sourceFailed(error)

  // The client's id and signal come apart from the options, which are then
  // shared by every stream of a route: no options object per request.
  constructor(
    source: StreamSource,
    options: EventStreamOptions,
    lastEventId: string | undefined,
    signal: AbortSignal | undefined,
  ) {
    if (options.retry !== undefined) checkRetry(options.retry) // a bad value throws now, not mid-stream
    const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS
    if (!Number.isSafeInteger(keepAliveMs) || keepAliveMs < 0 || keepAliveMs > MAX_DELAY_MS) {
      throw new TypeError(`keepAliveMs must be an integer from 0 to ${MAX_DELAY_MS}, got ${String(keepAliveMs)}`)
    }
    this.#options = options
    this.#signal = signal
    this.#keepAliveMs = keepAliveMs
    // Not a source at all is the caller's bug: a TypeError now, not a stream that fails later.
    if (typeof source !== 'function') {
      this.#iterator = iteratorOf(source)
      return
    }
    // A client that is gone already never starts the source.
    if (signal?.aborted) return
    try {
      const events = source(new Context(lastEventId, this))
      if (events === null) this.finished = true
      else this.#iterator = iteratorOf(events)
    } catch (error) {
      this.#failure = { error }
    }
  }

  /** The signal given to the source; made on first use, aborted once the stream stops the source. */
  sourceSignal(): AbortSignal {
    this.#abort ??= new AbortController()
    if (this.#ended && !this.#sourceDone && !this.#abort.signal.aborted) this.#abort.abort()
    return this.#abort.signal
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller
    const signal = this.#signal
    const { streams, retry } = this.#options
    if (signal?.aborted || (streams && !track(streams, this))) {
      this.#end(signal?.aborted ? 'cancelled' : 'shutdown')
      return
    }
    // The source is its own listener (handleEvent), so listening costs no closure.
    signal?.addEventListener('abort', this)
    // Headers and first bytes at once: some runtimes (Bun) hold the headers
    // until the first chunk, and EventSource opens only when they arrive.
    controller.enqueue(retry === undefined ? COMMENT : retryField(retry))
    this.#lastWrite = now()
    if (this.finished) this.#end('complete')
    else if (this.#failure) this.#end('error', this.#failure.error)
  }

  // One next() per pull; the stream calls pull() again only once the frame
  // has been read. An async next() is not awaited here: no promise of our own.
  pull(): void {
    if (this.#ended || this.#waiting) return
    try {
      const result = (this.#iterator as AnyIterator).next()
      if (typeof (result as Partial<PromiseLike<unknown>> | null)?.then !== 'function') {
        this.#deliver(result as IteratorResult<ServerSentEvent>)
        return
      }
      this.#waiting = true
      ;(result as PromiseLike<IteratorResult<ServerSentEvent>>).then(this.#receive, this.#reject)
    } catch (error) {
      this.#sourceFailed(error)
      return
    }
    if (this.#timer === undefined) this.#armKeepAlive()
  }

  /** The reader cancelled: the client is gone. */
  cancel(): void {
    this.#end('cancelled')
  }

  /** The request signal aborted: the client is gone. */
  handleEvent(): void {
    this.#end('cancelled')
  }

  /** Closes the stream between two events, for a server that stops. */
  shutdown(): void {
    this.#end('shutdown')
  }

  /** The keep-alive timer fired: a comment if the source has been quiet a whole period. */
  keepAlive(): void {
    this.#timer = undefined
    armed.count--
    if (this.#ended || !this.#waiting) return
    const time = now()
    if (time - this.#lastWrite >= this.#keepAliveMs) {
      // Only into an empty queue: a client that is not reading gets no pile of comments.
      if ((this.#controller.desiredSize ?? -1) >= 0) this.#controller.enqueue(COMMENT)
      this.#lastWrite = time
    }
    this.#armKeepAlive()
  }

  #armKeepAlive(): void {
    if (this.#keepAliveMs === 0) return
    armed.count++
    this.#timer = setTimeout(keepAlive, Math.max(0, this.#lastWrite + this.#keepAliveMs - now()), this)
  }

  #deliver(result: IteratorResult<ServerSentEvent>): void {
    this.#waiting = false
    if (this.#ended) return
    // Everything from the source is checked: an untyped iterator may return anything.
    if (typeof result !== 'object' || result === null) {
      this.#sourceFailed(new TypeError(`iterator.next() must return an object, got ${describe(result)}`))
      return
    }
    if (result.done) {
      this.#sourceDone = true
      this.#end('complete')
      return
    }
    // Handed over only to a stream waiting for its next event: its queue is empty.
    if (result === KEEP_ALIVE) {
      this.#controller.enqueue(COMMENT)
      this.#lastWrite = now()
      return
    }
    let frame: Uint8Array
    try {
      frame = encodeFrame(result.value)
    } catch (error) {
      // Refused before a byte of it is written: the client sees a clean end
      // after the last whole event, never the error text.
      this.#end('error', error)
      return
    }
    this.#controller.enqueue(frame)
    this.#events++
    this.#lastWrite = now()
  }

  #sourceFailed(error: unknown): void {
    this.#waiting = false
    // A next() that throws ends the iterator: there is nothing to return().
    if (!this.#ended) this.#sourceDone = true
    this.#end('error', error)
  }

  // Idempotent: cancel(), the request signal, shutdown and the source's end may all arrive.
  #end(reason: EndReason, error?: unknown): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      armed.count--
    }
    const { streams, onEnd } = this.#options
    this.#signal?.removeEventListener('abort', this)
    if (streams) untrack(streams, this)
    if (!this.#sourceDone && this.#iterator) this.#stopSource()
    try {
      this.#controller.close()
    } catch {
      // Already cancelled by the reader, or closed by the runtime.
    }
    const events = this.#events
    try {
      onEnd?.(error === undefined ? { reason, events } : { reason, events, error: String(error) })
    } catch (failure) {
      // Thrown from an abort listener or a timer, it would crash the process
      // (Node) or go unseen: logged instead, and the stream is closed anyway.
      console.error('edge-sse: onEnd threw', failure)
    }
  }

  // The source is stopped, not waited for: abort what it waits on, then
  // return() at once (a generator suspended at a yield runs its finally now;
  // one inside an await runs it as soon as that await settles).
  #stopSource(): void {
    this.#abort?.abort()
    try {
      const returned = this.#iterator?.return?.()
      if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
        ;(returned as PromiseLike<unknown>).then(ignore, ignore)
      }
    } catch {
      // A return() that throws has still been told.
    }
  }
}

// One function for every keep-alive timer: the stream is its argument.
function keepAlive(pump: EventPump): void {
  pump.keepAlive()
}

/**
 * A `ReadableStream` of the SSE frames of `source`, for those who build their
 * own `Response` (or write it anywhere else). It opens with `retry:` (or an
 * empty comment), then sends one frame per event as the reader pulls, then
 * closes when the source is done. Its chunks may be shared with other
 * streams: read them, never write into them.
 *
 * Throws a `TypeError` at once for a bad `retry` or `keepAliveMs`, or a
 * source that is neither an iterable nor a function. Whatever goes wrong
 * later (the source throws, yields a bad event) ends the stream cleanly and
 * is reported to `onEnd`.
 */
export function createEventStream(
  source: StreamSource,
  options: CreateEventStreamOptions = {},
): ReadableStream<Uint8Array> {
  return new ReadableStream(new EventPump(source, options, options.lastEventId, options.signal), { highWaterMark: 0 })
}
