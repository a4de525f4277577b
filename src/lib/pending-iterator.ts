/**
 * A source's iterator that exists before its events can: a stream's source
 * must hand over an iterator at once, but a topic kept elsewhere (Redis, a
 * Durable Object) may need a round trip before it knows where the client
 * starts. The first `next()` waits for the real iterator; from then on every
 * call goes straight to it, so a cursor's plain results pass through with no
 * promise added.
 */
import type { ServerSentEvent } from './encoder.ts'

type Result = IteratorResult<ServerSentEvent>

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

function ignore(): void {}

export class PendingIterator implements AsyncIterableIterator<ServerSentEvent> {
  readonly #started: Promise<AsyncIterator<ServerSentEvent>>
  readonly #abandon: (() => void) | undefined
  #inner: AsyncIterator<ServerSentEvent> | undefined
  #done = false

  /**
   * Hands over to the iterator `started` resolves to. If the client leaves
   * before, `abandon` runs at once and that iterator is returned as soon as
   * it comes. A `started` that rejects fails the stream's next read.
   */
  constructor(started: Promise<AsyncIterator<ServerSentEvent>>, abandon?: () => void) {
    this.#started = started
    this.#abandon = abandon
    // A client that left before its first read hears of no failure.
    started.catch(ignore)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<Result> {
    if (this.#inner) return this.#inner.next()
    if (this.#done) return Promise.resolve(DONE)
    return this.#started.then((inner) => {
      if (this.#done) return DONE
      this.#inner = inner
      return inner.next()
    })
  }

  return(): Promise<Result> {
    if (this.#done) return Promise.resolve(DONE)
    this.#done = true
    if (this.#inner) return this.#inner.return?.() ?? Promise.resolve(DONE)
    this.#abandon?.()
    this.#started.then((inner) => inner.return?.(), ignore)
    return Promise.resolve(DONE)
  }
}
