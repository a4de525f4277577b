/**
 * One topic's shared history in this process: the last events published, each
 * held once as a frozen result that every subscriber's stream hands on (so it
 * is encoded once, whatever the number of subscribers), bounded by count and
 * by age. A subscriber is nothing but a position in it (cursor.ts): nothing is
 * queued per subscriber, and one that reads too slowly falls out of the
 * history instead of holding memory.
 *
 * The store that owns a topic (memory, Redis, a Durable Object) assigns the
 * ids; positions here are sequence numbers local to this process.
 */
import type { ServerSentEvent } from './encoder.ts'
import type { GapReason } from './gap.ts'
import { armed } from './timers.ts'

/** One held event. */
export interface HeldEvent {
  /** What a cursor hands the stream: frozen, so the stream encodes its event once for every client. */
  readonly result: IteratorYieldResult<ServerSentEvent>
  /** When it was published (`Date.now()`), for the age bound. */
  readonly at: number
}

/** A cursor waiting for the next event. */
export interface Waiter {
  /** An event was appended (or the history moved on): read again. Called from a microtask, never inside `append`. */
  wake(): void
}

/** How much a topic holds. */
export interface HistoryLimits {
  /** Events held at most. */
  history: number
  /** Milliseconds an event is held at most; `0`: no age limit. */
  historyMs: number
}

export class Topic {
  readonly limits: HistoryLimits
  /** Subscribers reading this topic now. */
  subscribers = 0
  /**
   * Milliseconds without an event after which waiting cursors hand their
   * streams a keep-alive (one timer for the topic, not one per stream);
   * `0`: none, their streams keep alive themselves.
   */
  heartbeatMs = 0
  #beats = 0
  #quietSince = Date.now()
  #beat: ReturnType<typeof setTimeout> | undefined
  // A ring: event `seq` sits at (seq - 1) % history; it grows to that size only as events come.
  readonly #held: (HeldEvent | undefined)[] = []
  #first = 1
  #next = 1
  // The ids of the positions just before #first and just before #next.
  #before: string
  #latest: string
  #waiting = new Set<Waiter>()
  #wakeQueued = false
  // Cursors before #resetFirst were left behind by a reset, for #resetReason.
  #resetFirst = 0
  #resetReason: GapReason = 'reset'
  // The frame that only sets the client's last event id to #latest: made once per position.
  #position: IteratorYieldResult<ServerSentEvent> | undefined
  readonly #onIdle: (() => void) | undefined

  /**
   * An empty topic whose position so far is `baseId`, and whose next event
   * gets sequence number `start`; `onIdle` runs when its last subscriber leaves.
   */
  constructor(limits: HistoryLimits, baseId: string, start = 1, onIdle?: () => void) {
    this.limits = limits
    this.#before = baseId
    this.#latest = baseId
    this.#first = this.#next = start
    this.#onIdle = onIdle
  }

  /** Sequence number of the oldest held event (equal to {@link next} when none is held). */
  get first(): number {
    return this.#first
  }

  /** Sequence number the next event will get. */
  get next(): number {
    return this.#next
  }

  /** The id of the position before the oldest held event: a client there misses nothing. */
  get beforeId(): string {
    return this.#before
  }

  /** The id of the newest position: the last event's id, or the base id before any. */
  get latestId(): string {
    return this.#latest
  }

  /** The id of the oldest held event, or `null` when none is held. */
  get oldestId(): string | null {
    return this.entry(this.#first)?.result.value.id ?? null
  }

  /** Why a cursor at `seq`, before {@link first}, lost events: it was too slow, or a {@link reset} left it behind. */
  gapReason(seq: number): GapReason {
    return seq < this.#resetFirst ? this.#resetReason : 'behind'
  }

  /**
   * A frame with only `id: <latest>`: it dispatches nothing, but sets the
   * client's last event id, so that a client that starts with live events and
   * reconnects before the first one resumes from here instead of losing them.
   */
  positionResult(): IteratorYieldResult<ServerSentEvent> {
    this.#position ??= Object.freeze({ done: false, value: Object.freeze({ id: this.#latest }) })
    return this.#position
  }

  /** Keep-alives so far: a cursor that saw fewer, and has no event, hands its stream one. */
  get beats(): number {
    return this.#beats
  }

  /** Held event `seq`, or `undefined` if it is not held. */
  entry(seq: number): HeldEvent | undefined {
    if (seq < this.#first || seq >= this.#next) return undefined
    return this.#held[(seq - 1) % this.limits.history]
  }

  /** Appends an event whose `id` the store assigned (frozen here), and wakes waiting cursors. */
  append(event: ServerSentEvent, at = Date.now()): HeldEvent {
    const held: HeldEvent = { result: Object.freeze({ done: false, value: Object.freeze(event) }), at }
    if (this.#next - this.#first === this.limits.history) this.#drop()
    this.#held[(this.#next - 1) % this.limits.history] = held
    this.#next++
    this.#latest = event.id as string
    this.#position = undefined
    this.#quietSince = at
    this.#trimAge(at)
    this.#wakeSoon()
    return held
  }

  /** Drops events past the age limit; `true` if nothing is held any more. */
  trim(now = Date.now()): boolean {
    this.#trimAge(now)
    return this.#first === this.#next
  }

  /**
   * Forgets every held event and leaves every cursor behind (it gets a gap
   * with `reason`): the store lost events, so no position before `baseId`
   * is known to be complete any more.
   */
  reset(baseId: string, reason: GapReason): void {
    while (this.#first < this.#next) this.#drop()
    // One number skipped: a cursor that was waiting at the end is behind too.
    this.#first = this.#next = this.#next + 1
    this.#before = this.#latest = baseId
    this.#position = undefined
    this.#resetFirst = this.#first
    this.#resetReason = reason
    this.#wakeSoon()
  }

  /** `waiter` is woken once when the next event comes, or a keep-alive is due. */
  wait(waiter: Waiter): void {
    this.#waiting.add(waiter)
    if (this.#beat === undefined && this.heartbeatMs > 0) this.#armBeat()
  }

  /** `waiter` no longer waits (its client left). */
  unwait(waiter: Waiter): void {
    this.#waiting.delete(waiter)
    if (this.#waiting.size === 0 && this.#beat !== undefined) {
      clearTimeout(this.#beat)
      this.#beat = undefined
      armed.count--
    }
  }

  /** A subscriber left: unless another reads the topic, tell the store. */
  leave(): void {
    if (--this.subscribers === 0) this.#onIdle?.()
  }

  #drop(): void {
    const slot = (this.#first - 1) % this.limits.history
    this.#before = (this.#held[slot] as HeldEvent).result.value.id as string
    this.#held[slot] = undefined
    this.#first++
  }

  #trimAge(now: number): void {
    const { historyMs } = this.limits
    if (historyMs === 0) return
    while (this.#first < this.#next && (this.entry(this.#first) as HeldEvent).at <= now - historyMs) this.#drop()
  }

  #armBeat(): void {
    armed.count++
    const due = Math.max(0, this.#quietSince + this.heartbeatMs - Date.now())
    this.#beat = setTimeout(() => this.#onBeat(), due)
  }

  // Due only after a whole quiet period: an event since moves it on.
  #onBeat(): void {
    this.#beat = undefined
    armed.count--
    if (this.#waiting.size === 0 || this.heartbeatMs === 0) return
    const time = Date.now()
    if (time - this.#quietSince >= this.heartbeatMs) {
      this.#beats++
      this.#quietSince = time
      this.#wakeSoon()
    }
    this.#armBeat()
  }

  // Waiting cursors are woken after the publisher's call returns: publishing
  // costs the same with one subscriber or ten thousand, and one subscriber's
  // failure cannot reach the publisher.
  #wakeSoon(): void {
    if (this.#wakeQueued || this.#waiting.size === 0) return
    this.#wakeQueued = true
    queueMicrotask(() => {
      this.#wakeQueued = false
      const waiting = this.#waiting
      this.#waiting = new Set()
      for (const waiter of waiting) waiter.wake()
    })
  }
}
