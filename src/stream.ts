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

export interface EventStreamOptions extends Settings {
  /** Id of the last frame the client already has (from `Last-Event-ID`); the stream starts after it. Default 0. */
  lastEventId?: number
  /** The client is gone: pass `request.signal`, since some runtimes (workerd) never cancel the body. */
  signal?: AbortSignal
  /**
   * While the stream is open it keeps a function here that closes it between
   * two frames with reason `shutdown`; a server calls them all when it stops.
   * A Set, not an AbortSignal: thousands of listeners on one signal cost O(n²).
   */
  openStreams?: Set<() => void>
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
// allocates nothing per stream. Bounded: ids past it are encoded each time.
const CACHED_IDS = 10_000
const defaultFrames = new Map<number, Uint8Array>()
const retryFields = new Map<number, Uint8Array>()

function retryField(retryMs: number): Uint8Array {
  let bytes = retryFields.get(retryMs)
  if (!bytes) {
    bytes = encoder.encode(encodeEvent({ retry: retryMs }))
    if (retryFields.size < CACHED_IDS) retryFields.set(retryMs, bytes)
  }
  return bytes
}

function encodeFrame(id: number, message: (id: number) => string): Uint8Array {
  if (message !== defaultMessage) return encoder.encode(encodeEvent({ id: String(id), data: message(id) }))
  let bytes = defaultFrames.get(id)
  if (!bytes) {
    bytes = encoder.encode(encodeEvent({ id: String(id), data: defaultMessage(id) }))
    if (id <= CACHED_IDS) defaultFrames.set(id, bytes)
  }
  return bytes
}

// Timers armed by all streams of this process right now: what a leak would grow.
let armed = 0

/** How many stream timers are pending in this process (0 when no stream waits). */
export function pendingTimers(): number {
  return armed
}

/** Creates one stream of frames `lastEventId + 1` to `frames`; frame k is due at start + k × interval. */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { frames, intervalMs, retryMs, keepAliveMs, signal, openStreams, onEnd, message = defaultMessage } = options
  const startedAt = Date.now()
  const first = (options.lastEventId ?? 0) + 1
  let next = first
  let sent = 0
  let ended = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let controller: ReadableStreamDefaultController<Uint8Array>

  const disarm = () => {
    if (timer === undefined) return
    clearTimeout(timer)
    timer = undefined
    armed--
  }
  // Idempotent: cancel(), the request signal, shutdown and the last frame may all arrive.
  const end = (reason: EndReason, error?: unknown) => {
    if (ended) return
    ended = true
    disarm()
    signal?.removeEventListener('abort', onClientGone)
    openStreams?.delete(onShutdown)
    onEnd?.(error === undefined ? { reason, frames: sent } : { reason, frames: sent, error: String(error) })
  }
  const close = (reason: EndReason, error?: unknown) => {
    if (ended) return
    end(reason, error)
    try {
      controller.close()
    } catch {
      // The runtime already closed or errored it.
    }
  }
  const onClientGone = () => close('cancelled')
  const onShutdown = () => close('shutdown')

  // Runs when the timer fires: one frame, or a keep-alive comment.
  const tick = (quiet: boolean) => {
    timer = undefined
    armed--
    if (quiet) return controller.enqueue(KEEP_ALIVE)
    let frame: Uint8Array
    try {
      frame = encodeFrame(next, message)
    } catch (error) {
      // close(), not error(): the client sees a clean end and never the error text.
      return close('error', error)
    }
    controller.enqueue(frame)
    sent++
    next++
    if (next > frames) close('complete')
  }

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (signal?.aborted) return onClientGone()
        signal?.addEventListener('abort', onClientGone)
        openStreams?.add(onShutdown)
        // Some runtimes (Bun) hold the headers until the first chunk: sending the
        // retry field now lets EventSource open at once, not after one interval.
        c.enqueue(retryField(retryMs))
        if (first > frames) close('complete')
      },
      // Arms the timer and returns: no promise per frame. The stream calls
      // pull() again only after the enqueued frame has been read.
      pull() {
        if (ended || timer !== undefined) return
        const delay = startedAt + (next - first + 1) * intervalMs - Date.now()
        // A wait longer than the keep-alive period is cut into periods, each
        // ending in a comment, so proxies do not drop an idle connection.
        const quiet = delay > keepAliveMs
        armed++
        timer = setTimeout(tick, quiet ? keepAliveMs : Math.max(0, delay), quiet)
      },
      cancel() {
        end('cancelled')
      },
    },
    { highWaterMark: 0 },
  )
}
