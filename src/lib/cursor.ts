/**
 * One subscriber of a topic: a position in the topic's shared history and
 * nothing else. Pulled by the event stream like any source: a pull that finds
 * an event held hands on the topic's own frozen result (no allocation, no
 * encoding), one that finds none waits with the topic until the next publish.
 * A cursor that fell out of the history (its client read too slowly, or the
 * store lost events) gets one gap event and goes on with live events.
 */
import type { ServerSentEvent } from './encoder.ts'
import { gapEvent } from './gap.ts'
import { KEEP_ALIVE } from './keep-alive.ts'
import type { Topic, Waiter } from './topic.ts'

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

type Result = IteratorResult<ServerSentEvent>

export class Cursor implements AsyncIterableIterator<ServerSentEvent>, Waiter {
  readonly #topic: Topic
  #seq: number
  #opening: Result | undefined
  #done = false
  // The topic's keep-alives when this cursor began to wait.
  #beats = 0
  #fulfil: ((result: Result) => void) | undefined
  // What next() returns while waiting: a thenable made once per cursor, not a promise per pull.
  readonly #pending: PromiseLike<Result> = {
    // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, so a wait costs no promise.
    then: ((fulfilled: (result: Result) => void) => {
      this.#fulfil = fulfilled
    }) as PromiseLike<Result>['then'],
  }

  /** A subscriber of `topic` whose next event is `seq`, sent after `opening` (a gap, or its position) if given. */
  constructor(topic: Topic, seq: number, opening?: Result) {
    this.#topic = topic
    this.#seq = seq
    this.#opening = opening
    topic.subscribers++
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** The next event: at once if one is held (a plain result, which the stream takes without a promise), else when it comes. */
  next(): Promise<Result> {
    const result = this.#read()
    if (result) return result as unknown as Promise<Result>
    this.#beats = this.#topic.beats
    this.#topic.wait(this)
    return this.#pending as Promise<Result>
  }

  /** The topic has moved on, or a keep-alive is due: hand the waiting stream what is there now. */
  wake(): void {
    const fulfil = this.#fulfil
    if (!fulfil) return
    const result = this.#read() ?? (this.#beats === this.#topic.beats ? undefined : KEEP_ALIVE)
    if (!result) {
      this.#topic.wait(this)
      return
    }
    this.#fulfil = undefined
    fulfil(result)
  }

  /** The client left: the topic forgets this cursor at once. */
  return(): Promise<Result> {
    if (!this.#done) {
      this.#done = true
      this.#topic.unwait(this)
      const fulfil = this.#fulfil
      this.#fulfil = undefined
      fulfil?.(DONE)
      this.#topic.leave()
    }
    return Promise.resolve(DONE)
  }

  #read(): Result | undefined {
    if (this.#done) return DONE
    const opening = this.#opening
    if (opening) {
      this.#opening = undefined
      return opening
    }
    const topic = this.#topic
    if (this.#seq < topic.first) {
      const reason = topic.gapReason(this.#seq)
      this.#seq = topic.next
      return { done: false, value: gapEvent({ reason, oldest: topic.oldestId, latest: topic.latestId }) }
    }
    const held = topic.entry(this.#seq)
    if (!held) return undefined
    this.#seq++
    return held.result
  }
}
