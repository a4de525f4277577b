/**
 * A client that resumes from further back than a topic's local history: the
 * events fetched for it alone (from Redis), then its cursor, which was placed
 * at the start of the local history before the fetch, so that the hand-off
 * loses and repeats nothing.
 */
import type { Cursor } from './cursor.ts'
import type { ServerSentEvent } from './encoder.ts'

type Result = IteratorResult<ServerSentEvent>

export class ReplayIterator implements AsyncIterableIterator<ServerSentEvent> {
  readonly #events: ServerSentEvent[]
  readonly #cursor: Cursor
  #index = 0

  /** `events` first, then whatever `cursor` gives. */
  constructor(events: ServerSentEvent[], cursor: Cursor) {
    this.#events = events
    this.#cursor = cursor
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** A replayed event as a plain result (as a cursor gives a held one), then the cursor's. */
  next(): Promise<Result> {
    const event = this.#events[this.#index]
    if (event === undefined) return this.#cursor.next()
    this.#events[this.#index++] = undefined as unknown as ServerSentEvent // sent: not kept for the whole stream
    return { done: false, value: event } as unknown as Promise<Result>
  }

  return(): Promise<Result> {
    this.#index = this.#events.length
    return this.#cursor.return()
  }
}
