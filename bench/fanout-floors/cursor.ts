/**
 * The Web Streams floor of a subscriber: a plain pull `ReadableStream`
 * (highWaterMark 0) whose source is a cursor into the shared frames
 * (frames.ts). A pull hands on the next frame when it is held, or waits for
 * the next publish; nothing is queued per subscriber. What edge-sse's Cursor
 * and EventPump do, with nothing else: the floor of Bun.serve, Deno.serve and
 * a bare Worker.
 */
import { type Frames, RETRY, type Waiter } from './frames.ts'

const COMMENT = new TextEncoder().encode(':\n\n')

/** How a Worker's subscriber must be served: see {@link cursorStream}. */
export interface WorkerOptions {
  signal: AbortSignal
  keepAliveMs: number
}

class CursorSource implements Waiter {
  readonly #frames: Frames
  readonly #keepAliveMs: number
  #seq: number
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(frames: Frames, keepAliveMs: number) {
    this.#frames = frames
    this.#keepAliveMs = keepAliveMs
    // Live events only, as edge-sse's subscriber without Last-Event-ID.
    this.#seq = frames.next
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller
    controller.enqueue(RETRY)
    if (this.#keepAliveMs > 0) this.#timer = setInterval(keepAlive, this.#keepAliveMs, controller)
  }

  pull(): void {
    if (!this.#send()) this.#frames.wait(this)
  }

  wake(): void {
    this.#send()
  }

  cancel(): void {
    this.#frames.unwait(this)
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  /** The request's signal aborted: the client left. */
  handleEvent(): void {
    this.cancel()
    this.#controller?.close()
  }

  #send(): boolean {
    const frames = this.#frames
    if (this.#seq < frames.first) this.#seq = frames.first
    const frame = frames.at(this.#seq)
    if (!frame) return false
    this.#seq++
    ;(this.#controller as ReadableStreamDefaultController<Uint8Array>).enqueue(frame)
    return true
  }
}

function keepAlive(controller: ReadableStreamDefaultController<Uint8Array>): void {
  controller.enqueue(COMMENT)
}

/**
 * A subscriber's stream of `frames`, from the next publish on. A Worker's
 * needs two things more, which edge-sse's stream has too: the client leaving
 * is seen through the request's `signal`, since workerd never cancels a body
 * (workerd#6832) and a gone subscriber would be written to by every publish;
 * and a keep-alive timer, since workerd cancels a request that has nothing of
 * its own pending (no timer, no I/O) as hung, and a subscriber waits on a
 * publish made by another request.
 */
export function cursorStream(frames: Frames, worker?: WorkerOptions): ReadableStream<Uint8Array> {
  const source = new CursorSource(frames, worker?.keepAliveMs ?? 0)
  // The source is its own listener (handleEvent), as edge-sse's EventPump is.
  worker?.signal.addEventListener('abort', source)
  return new ReadableStream(source, { highWaterMark: 0 })
}
