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
  /** The server is stopping: the stream closes between two frames, so the client can resume elsewhere. */
  shutdown?: AbortSignal
  /** Called exactly once when the stream ends, for logging and bookkeeping. */
  onEnd?: (end: StreamEnd) => void
  /** The data of frame `id`. Default `Message <id>`. If it throws, the stream ends cleanly with reason `error`. */
  message?: (id: number) => string
}

/** The data of frame `id` in the original demo. */
export const defaultMessage = (id: number): string => `Message ${id}`

const encoder = new TextEncoder()
const KEEP_ALIVE = encodeComment()

// Timers armed by all streams of this process right now: what a leak would grow.
let armed = 0

/** How many stream timers are pending in this process (0 when no stream waits). */
export function pendingTimers(): number {
  return armed
}

/** Creates one stream of frames `lastEventId + 1` to `frames`; frame k is due at start + k × interval. */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { frames, intervalMs, retryMs, keepAliveMs, signal, shutdown, onEnd, message = defaultMessage } = options
  const startedAt = Date.now()
  const first = (options.lastEventId ?? 0) + 1
  let next = first
  let sent = 0
  let ended = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let settlePull: (() => void) | undefined
  let controller: ReadableStreamDefaultController<Uint8Array>

  // Idempotent: cancel(), both signals and the last frame may all arrive.
  const end = (reason: EndReason, error?: unknown) => {
    if (ended) return
    ended = true
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
      armed--
    }
    settlePull?.()
    signal?.removeEventListener('abort', onClientGone)
    shutdown?.removeEventListener('abort', onShutdown)
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
    if (quiet) return controller.enqueue(encoder.encode(KEEP_ALIVE))
    let frame: string
    try {
      frame = encodeEvent({ id: String(next), data: message(next) })
    } catch (error) {
      // close(), not error(): the client sees a clean end and never the error text.
      return close('error', error)
    }
    controller.enqueue(encoder.encode(frame))
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
        shutdown?.addEventListener('abort', onShutdown)
        // Some runtimes (Bun) hold the headers until the first chunk: sending the
        // retry field now lets EventSource open at once, not after one interval.
        c.enqueue(encoder.encode(encodeEvent({ retry: retryMs })))
        if (first > frames) close('complete')
        else if (shutdown?.aborted) onShutdown()
      },
      pull() {
        if (ended) return
        const delay = startedAt + (next - first + 1) * intervalMs - Date.now()
        // A wait longer than the keep-alive period is cut into periods, each
        // ending in a comment, so proxies do not drop an idle connection.
        const quiet = delay > keepAliveMs
        return new Promise<void>((resolve) => {
          settlePull = resolve
          armed++
          timer = setTimeout(
            () => {
              timer = undefined
              armed--
              settlePull = undefined
              tick(quiet)
              resolve()
            },
            quiet ? keepAliveMs : Math.max(0, delay),
          )
        })
      },
      cancel() {
        end('cancelled')
      },
    },
    { highWaterMark: 0 },
  )
}
