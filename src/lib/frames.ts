/**
 * The demo's events as a source for the event stream: `Message 1` …
 * `Message N`, one per interval. Frame k is due at start + k × interval, so
 * delays never add up, and a reconnecting client resumes after its
 * Last-Event-ID. A hand-written async iterator rather than a generator: its
 * `return()` clears the pending timer at once, and each of thousands of open
 * streams costs one object and one timer.
 */
import type { ServerSentEvent } from './encoder.ts'
import type { Settings } from './settings.ts'
import { armed, now } from './timers.ts'
import type { SourceContext } from './types.ts'

/** The data of frame `id` in the original demo. */
export const defaultMessage = (id: number): string => `Message ${id}`

// Plain ASCII decimal only: our ids are "1".."N", and anything else (negative,
// "1e3", Unicode digits, 10,000 digits) is not an id we issued.
const DECIMAL_ID = /^[0-9]{1,15}$/

/** The frame the client already has, from its Last-Event-ID, or 0 for none or one we never issued. */
export function lastFrame(lastEventId: string | undefined): number {
  return lastEventId !== undefined && DECIMAL_ID.test(lastEventId) ? Number(lastEventId) : 0
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })
const FINISHED: Promise<IteratorReturnResult<undefined>> = Promise.resolve(DONE)

// The default frames are the same for every stream: frozen results, shared,
// so a tick allocates nothing and the stream encodes each frame once.
// Bounded, like every cache here.
const defaultResults = new Map<number, IteratorYieldResult<ServerSentEvent>>()
function defaultResult(id: number): IteratorYieldResult<ServerSentEvent> {
  let result = defaultResults.get(id)
  if (!result) {
    result = Object.freeze({ done: false, value: Object.freeze({ id: String(id), data: defaultMessage(id) }) })
    if (defaultResults.size < 10_000) defaultResults.set(id, result)
  }
  return result
}

type FrameSettings = Pick<Settings, 'frames' | 'intervalMs'>
type Settle = { fulfilled: (result: IteratorResult<ServerSentEvent>) => void; rejected: (error: unknown) => void }

/**
 * One client's frames. `next()` returns the schedule itself as a thenable of
 * the next frame, settled by the timer: no promise per frame, and the
 * stream's `.then()` on it allocates nothing either.
 */
class Schedule implements AsyncIterableIterator<ServerSentEvent> {
  readonly #settings: FrameSettings
  readonly #message: (id: number) => string
  readonly #startedAt = now()
  readonly #first: number
  #next: number
  #timer: ReturnType<typeof setTimeout> | undefined
  #fulfilled: Settle['fulfilled'] | undefined
  #rejected: Settle['rejected'] | undefined

  constructor(first: number, settings: FrameSettings, message: (id: number) => string) {
    this.#settings = settings
    this.#message = message
    this.#first = first
    this.#next = first
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<ServerSentEvent>> {
    if (this.#next > this.#settings.frames) return FINISHED
    if (this.#timer === undefined) {
      const due = this.#startedAt + (this.#next - this.#first + 1) * this.#settings.intervalMs
      armed.count++
      this.#timer = setTimeout(fire, Math.max(0, due - now()), this)
    }
    // A thenable, not a Promise: `await` and the stream both accept it.
    return this as unknown as Promise<IteratorResult<ServerSentEvent>>
  }

  /** The thenable half of `next()`: remembers who waits for the frame. */
  // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, so a frame costs no promise; the class is internal and never awaited itself.
  then(fulfilled: Settle['fulfilled'], rejected: Settle['rejected']): void {
    this.#fulfilled = fulfilled
    this.#rejected = rejected
  }

  /** The timer fired: frame `next` is due. */
  fire(): void {
    this.#timer = undefined
    armed.count--
    const fulfilled = this.#fulfilled
    const rejected = this.#rejected
    this.#fulfilled = this.#rejected = undefined
    const id = this.#next++
    let result: IteratorResult<ServerSentEvent>
    try {
      const message = this.#message
      result =
        message === defaultMessage ? defaultResult(id) : { done: false, value: { id: String(id), data: message(id) } }
    } catch (error) {
      // A message() that throws fails this stream only.
      rejected?.(error)
      return
    }
    fulfilled?.(result)
  }

  return(): Promise<IteratorResult<ServerSentEvent>> {
    this.#next = Number.POSITIVE_INFINITY
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      armed.count--
    }
    const fulfilled = this.#fulfilled
    this.#fulfilled = this.#rejected = undefined
    fulfilled?.(DONE)
    return FINISHED
  }
}

// One function for every timer: the schedule is its argument.
function fire(schedule: Schedule): void {
  schedule.fire()
}

/**
 * The demo's source: for each client, frames `lastEventId + 1` to `frames`,
 * or `null` (204) when it already has the last one. A `Last-Event-ID` we
 * never issued restarts the stream at 1 rather than failing the request.
 */
export function frames(
  settings: FrameSettings,
  message: (id: number) => string = defaultMessage,
): (context: SourceContext) => AsyncIterableIterator<ServerSentEvent> | null {
  return ({ lastEventId }) => {
    const after = lastFrame(lastEventId)
    return after >= settings.frames ? null : new Schedule(after + 1, settings, message)
  }
}
