/**
 * The demo's events as a source for the event stream: `Message 1` …
 * `Message N`, one per interval. Frame k is due at start + k × interval, so
 * delays never add up, and a reconnecting client resumes after its
 * Last-Event-ID. A hand-written async iterator rather than a generator: its
 * `return()` clears the pending timer at once, and each of thousands of open
 * streams costs one object and one promise.
 */
import type { ServerSentEvent } from './encoder.ts'
import type { Settings } from './settings.ts'
import { armed } from './timers.ts'
import type { SourceContext } from './types.ts'

/** The data of frame `id` in the original demo. */
export const defaultMessage = (id: number): string => `Message ${id}`

// Plain ASCII decimal only: our ids are "1".."N", and anything else (negative,
// "1e3", Unicode digits, 10,000 digits) is not an id we issued.
const DECIMAL_ID = /^[0-9]{1,15}$/

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

// The default frames are the same for every stream: frozen, so the stream
// encodes each once. Bounded, like every cache here.
const defaultEvents = new Map<number, ServerSentEvent>()
function defaultEvent(id: number): ServerSentEvent {
  let event = defaultEvents.get(id)
  if (!event) {
    event = Object.freeze({ id: String(id), data: defaultMessage(id) })
    if (defaultEvents.size < 10_000) defaultEvents.set(id, event)
  }
  return event
}

type FrameSettings = Pick<Settings, 'frames' | 'intervalMs'>

class Schedule implements AsyncIterableIterator<ServerSentEvent> {
  readonly #settings: FrameSettings
  readonly #message: (id: number) => string
  readonly #startedAt = Date.now()
  readonly #first: number
  #next: number
  #timer: ReturnType<typeof setTimeout> | undefined
  #resolve: ((result: IteratorResult<ServerSentEvent>) => void) | undefined
  #reject: ((error: unknown) => void) | undefined

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
    if (this.#next > this.#settings.frames) return Promise.resolve(DONE)
    const due = this.#startedAt + (this.#next - this.#first + 1) * this.#settings.intervalMs
    return new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
      armed.count++
      this.#timer = setTimeout(fire, Math.max(0, due - Date.now()), this)
    })
  }

  /** The timer fired: frame `next` is due. */
  fire(): void {
    this.#timer = undefined
    armed.count--
    const resolve = this.#resolve as (result: IteratorResult<ServerSentEvent>) => void
    const reject = this.#reject as (error: unknown) => void
    this.#resolve = this.#reject = undefined
    const id = this.#next++
    try {
      const message = this.#message
      resolve({
        done: false,
        value: message === defaultMessage ? defaultEvent(id) : { id: String(id), data: message(id) },
      })
    } catch (error) {
      // A message() that throws fails this stream only.
      reject(error)
    }
  }

  return(): Promise<IteratorResult<ServerSentEvent>> {
    this.#next = Number.POSITIVE_INFINITY
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      armed.count--
    }
    this.#resolve?.(DONE)
    this.#resolve = this.#reject = undefined
    return Promise.resolve(DONE)
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
    const after = lastEventId !== undefined && DECIMAL_ID.test(lastEventId) ? Number(lastEventId) : 0
    return after >= settings.frames ? null : new Schedule(after + 1, settings, message)
  }
}
