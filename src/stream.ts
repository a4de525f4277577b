/**
 * The event stream factory: a pull-based `ReadableStream` of encoded SSE
 * frames, the same on every runtime.
 *
 * Nothing is produced until the consumer asks (highWaterMark 0), so a slow
 * client holds at most the frame it is being sent. Each `pull()` arms one
 * timer for the next frame; `cancel()` or an aborted request clears it at once.
 */
import { encodeComment, encodeEvent } from './encoder.ts'
import type { Settings } from './settings.ts'

/** Why a stream ended: all frames sent, the client left, the server is stopping, or `message()` threw. */
export type EndReason = 'complete' | 'cancelled' | 'shutdown' | 'error'

/** What {@link EventStreamOptions.onEnd} is told once per stream. */
export interface StreamEnd {
  reason: EndReason
  /** Frames enqueued by this stream (not counting the `retry:` preamble or keep-alives). */
  frames: number
  /** What went wrong, when `reason` is `error`. Logged, never sent to the client. */
  error?: string
}

/** An open stream, as {@link EventStreamOptions.openStreams} holds it. */
export interface OpenStream {
  shutdown(): void
}

export interface EventStreamOptions extends Settings {
  /** Id of the last frame the client already has (from `Last-Event-ID`); the stream starts after it. Default 0. */
  lastEventId?: number
  /** The client is gone: pass `request.signal`, since some runtimes (workerd) never cancel the body. */
  signal?: AbortSignal
  /**
   * The stream is in this set while it is open; a server that stops calls
   * `shutdown()` on each, which closes it between two frames. A Set, not an
   * AbortSignal: thousands of listeners on one signal cost O(n²) to add.
   */
  openStreams?: Set<OpenStream>
  /** Called exactly once when the stream ends, for logging and bookkeeping. */
  onEnd?: (end: StreamEnd) => void
  /** The data of frame `id`. Default `Message <id>`. If it throws, the stream ends cleanly with reason `error`. */
  message?: (id: number) => string
}

/** The data of frame `id` in the original demo. */
export const defaultMessage = (id: number): string => `Message ${id}`

const encoder = new TextEncoder()
const KEEP_ALIVE = encoder.encode(encodeComment())

// Bytes that every stream sends alike are encoded once and shared, so a tick
// allocates nothing per stream. Each cache is bounded: past it, bytes are
// encoded each time.
const CACHE_LIMIT = 10_000
const defaultFrames = new Map<number, Uint8Array>()
const retryFields = new Map<number, Uint8Array>()

// Module-level encoders, so a cache hit allocates no closure on the hot path.
const retryText = (retryMs: number) => encodeEvent({ retry: retryMs })
const frameText = (id: number, message: (id: number) => string) => encodeEvent({ id: String(id), data: message(id) })
const defaultFrameText = (id: number) => frameText(id, defaultMessage)

function cached(cache: Map<number, Uint8Array>, key: number, text: (key: number) => string): Uint8Array {
  let bytes = cache.get(key)
  if (!bytes) {
    bytes = encoder.encode(text(key))
    if (cache.size < CACHE_LIMIT) cache.set(key, bytes)
  }
  return bytes
}

function retryField(retryMs: number): Uint8Array {
  return cached(retryFields, retryMs, retryText)
}

function encodeFrame(id: number, message: (id: number) => string): Uint8Array {
  // Only the default data is the same for every stream; a custom message() may differ per call.
  return message === defaultMessage
    ? cached(defaultFrames, id, defaultFrameText)
    : encoder.encode(frameText(id, message))
}

// Timers armed by all streams of this process right now: what a leak would grow.
let armed = 0

/** How many stream timers are pending in this process (0 when no stream waits). */
export function pendingTimers(): number {
  return armed
}

/**
 * The underlying source of one stream. A class, not closures: its methods live
 * once on the prototype, so each of thousands of open streams costs one object.
 */
class FrameSource {
  readonly #options: EventStreamOptions
  readonly #message: (id: number) => string
  readonly #startedAt = Date.now()
  readonly #first: number
  #next: number
  #sent = 0
  #ended = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #controller!: ReadableStreamDefaultController<Uint8Array>

  constructor(options: EventStreamOptions) {
    this.#options = options
    this.#message = options.message ?? defaultMessage
    this.#first = (options.lastEventId ?? 0) + 1
    this.#next = this.#first
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller
    const { signal, openStreams, frames, retryMs } = this.#options
    if (signal?.aborted) {
      this.handleEvent()
      return
    }
    // The source is its own listener (handleEvent), so listening costs no closure.
    signal?.addEventListener('abort', this)
    openStreams?.add(this)
    // Some runtimes (Bun) hold the headers until the first chunk: sending the
    // retry field now lets EventSource open at once, not after one interval.
    controller.enqueue(retryField(retryMs))
    if (this.#first > frames) this.#close('complete')
  }

  // Arms the timer and returns: no promise per frame. The stream calls pull()
  // again only after the enqueued frame has been read.
  pull(): void {
    if (this.#ended || this.#timer !== undefined) return
    const { intervalMs, keepAliveMs } = this.#options
    const delay = this.#startedAt + (this.#next - this.#first + 1) * intervalMs - Date.now()
    // A wait longer than the keep-alive period is cut into periods, each
    // ending in a comment, so proxies do not drop an idle connection.
    const quiet = delay > keepAliveMs
    armed++
    this.#timer = setTimeout(fire, quiet ? keepAliveMs : Math.max(0, delay), this, quiet)
  }

  cancel(): void {
    this.#end('cancelled')
  }

  /** The request signal aborted: the client is gone. */
  handleEvent(): void {
    this.#close('cancelled')
  }

  /** Closes the stream between two frames, for a server that stops. */
  shutdown(): void {
    this.#close('shutdown')
  }

  /** The timer fired: one frame, or a keep-alive comment. */
  tick(quiet: boolean): void {
    this.#timer = undefined
    armed--
    if (quiet) {
      this.#controller.enqueue(KEEP_ALIVE)
      return
    }
    let frame: Uint8Array
    try {
      frame = encodeFrame(this.#next, this.#message)
    } catch (error) {
      // close(), not error(): the client sees a clean end and never the error text.
      this.#close('error', error)
      return
    }
    this.#controller.enqueue(frame)
    this.#sent++
    this.#next++
    if (this.#next > this.#options.frames) this.#close('complete')
  }

  // Idempotent: cancel(), the request signal, shutdown and the last frame may all arrive.
  #end(reason: EndReason, error?: unknown): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      armed--
    }
    const { signal, openStreams, onEnd } = this.#options
    signal?.removeEventListener('abort', this)
    openStreams?.delete(this)
    const frames = this.#sent
    onEnd?.(error === undefined ? { reason, frames } : { reason, frames, error: String(error) })
  }

  #close(reason: EndReason, error?: unknown): void {
    if (this.#ended) return
    this.#end(reason, error)
    try {
      this.#controller.close()
    } catch {
      // The runtime already closed or errored it.
    }
  }
}

// One function for every timer: the source and the kind of tick are its arguments.
function fire(source: FrameSource, quiet: boolean): void {
  source.tick(quiet)
}

/**
 * Creates one stream of frames `lastEventId + 1` to `frames`; frame k is due at
 * start + k × interval. Its chunks may be shared with other streams: read them,
 * never write into them.
 */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  return new ReadableStream(new FrameSource(options), { highWaterMark: 0 })
}
