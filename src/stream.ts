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

/** Why a stream ended, as reported to {@link EventStreamOptions.onEnd}. */
export type EndReason = 'complete' | 'cancelled' | 'error'

/** What {@link EventStreamOptions.onEnd} is told once per stream. */
export interface StreamEnd {
  reason: EndReason
  /** Frames enqueued by this stream (not counting the `retry:` preamble or keep-alives). */
  frames: number
}

export interface EventStreamOptions extends Settings {
  /** Id of the last frame the client already has (from `Last-Event-ID`); the stream starts after it. Default 0. */
  lastEventId?: number
  /** Aborts the stream like `cancel()`: pass `request.signal`, since some runtimes never cancel the body. */
  signal?: AbortSignal
  /** Called exactly once when the stream ends, for logging and bookkeeping. */
  onEnd?: (end: StreamEnd) => void
}

const encoder = new TextEncoder()

/** The bytes of frame `n`: `id: n` and `data: Message n`. */
export function encodeFrame(n: number): Uint8Array {
  return encoder.encode(encodeEvent({ id: String(n), data: `Message ${n}` }))
}

const KEEP_ALIVE = encoder.encode(encodeComment())

/** Creates one stream of frames `lastEventId + 1` to `frames`, frame k due at start + k × interval. */
export function createEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const { frames, intervalMs, retryMs, keepAliveMs, signal, onEnd } = options
  const startedAt = Date.now()
  const first = (options.lastEventId ?? 0) + 1
  let next = first
  let sent = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let wake: (() => void) | undefined
  let ended = false

  // Idempotent: cancel(), an aborted signal and the last frame may all arrive.
  const end = (reason: EndReason) => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    timer = undefined
    wake?.()
    signal?.removeEventListener('abort', onAbort)
    onEnd?.({ reason, frames: sent })
  }
  const onAbort = () => {
    end('cancelled')
    try {
      controller?.close()
    } catch {
      // Already closed or errored by the runtime.
    }
  }
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort)
        // Headers leave with the first chunk on some runtimes (Bun), so send the
        // retry field now: EventSource opens at once instead of after one interval.
        c.enqueue(encoder.encode(encodeEvent({ retry: retryMs })))
        if (first > frames) {
          c.close()
          end('complete')
        }
      },
      pull(c) {
        return new Promise<void>((resolve) => {
          if (ended) return resolve()
          wake = resolve
          const delay = startedAt + (next - first + 1) * intervalMs - Date.now()
          // A long wait is cut into keep-alive periods so proxies keep the stream open.
          const quiet = delay > keepAliveMs
          timer = setTimeout(
            () => {
              timer = undefined
              wake = undefined
              if (ended) return resolve()
              try {
                if (quiet) {
                  c.enqueue(KEEP_ALIVE)
                } else {
                  c.enqueue(encodeFrame(next++))
                  sent++
                  if (next > frames) {
                    c.close()
                    end('complete')
                  }
                }
              } catch {
                // The consumer went away between the timer and the enqueue.
                end('cancelled')
              }
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
