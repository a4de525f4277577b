/**
 * A Redis topic as this process holds it while it has subscribers here: the
 * newest events of its stream in a local `Topic`, fed by the process's one
 * reader, which every local subscriber reads through its own cursor (each
 * event encoded once, as for a topic in memory). It checks that what it is
 * fed follows what it holds (each entry names the id before it), so events
 * trimmed before they were read, or lost by Redis, reach subscribers as a gap
 * event, never as a silent hole; and it places a resuming client anywhere in
 * the stream, fetching from Redis what it no longer holds.
 */
import { Cursor } from './cursor.ts'
import type { ServerSentEvent } from './encoder.ts'
import { type GapReason, gapEvent } from './gap.ts'
import {
  compareIds,
  isChain,
  isStreamId,
  type RawEntry,
  readEntry,
  STREAM_START,
  type StreamEntry,
  unbrokenTail,
} from './redis-entries.ts'
import { ReplayIterator } from './replay-iterator.ts'
import { type HistoryLimits, Topic } from './topic.ts'

/**
 * Fetches the entries after id `after`, oldest first, up to the newest or to
 * a count; `count` is that count (a result that long may stop short).
 */
export interface FetchRange {
  (after: string): Promise<StreamEntry[]>
  readonly count: number
}

export class RedisMirror {
  /** The topic's stream key. */
  readonly stream: string
  /** The local history: set once the snapshot is in ({@link start}). */
  topic: Topic | undefined
  /** Subscribers that wait for the snapshot. */
  waiting = 0
  /** Settles once the snapshot is in (or could not be read): set by the store that reads it. */
  loaded: Promise<void> = Promise.resolve()
  // The reader's session in which this mirror is known to have followed the
  // stream without interruption (`undefined`: not known).
  #session: number | undefined
  readonly #limits: HistoryLimits
  readonly #onIdle: () => void

  /** A mirror of `stream`, empty until {@link start}; `onIdle` runs when its last subscriber leaves. */
  constructor(stream: string, limits: HistoryLimits, onIdle: () => void) {
    this.stream = stream
    this.#limits = limits
    this.#onIdle = onIdle
  }

  /** Nobody reads it here any more. */
  get idle(): boolean {
    return this.waiting === 0 && (this.topic?.subscribers ?? 0) === 0
  }

  /**
   * Starts from a snapshot: the stream's last generated id and its newest
   * entries (newest first), taken while the reader was in `session`
   * (`undefined` if it was not connected).
   */
  start(lastId: string, newestFirst: RawEntry[], session: number | undefined): void {
    const entries = unbrokenTail(newestFirst.map(readEntry).reverse())
    const base = entries[0]?.prev ?? lastId
    const topic = new Topic(this.#limits, isStreamId(base) ? base : STREAM_START, 1, this.#onIdle)
    for (const { event, at } of entries) topic.append(event, at)
    this.topic = topic
    this.#session = session
  }

  /**
   * Appends entries the reader read in `session` after {@link Topic.latestId}.
   * An entry that does not follow the latest one means events this process
   * never read: every subscriber gets a gap, `behind` if they were trimmed
   * before they could be read, `reset` if Redis lost them (it restarted
   * without its data). A new stream (the old one expired after a silence of
   * the whole history time, or was deleted) followed without interruption
   * lost nothing.
   */
  apply(raw: RawEntry[], session: number): void {
    const topic = this.topic as Topic
    for (const item of raw) {
      const entry = readEntry(item)
      const { prev } = entry
      const latest = topic.latestId
      // Read from a position before the latest (a read sent before the
      // mirror was made again): held already, and an id is never repeated.
      if (compareIds(entry.event.id as string, latest) <= 0) continue
      if (prev !== latest && !(prev === STREAM_START && this.#session === session)) {
        const known = isStreamId(prev)
        const reason: GapReason = known && compareIds(prev, latest) > 0 ? 'behind' : 'reset'
        topic.reset(known ? prev : STREAM_START, reason)
      }
      topic.append(entry.event, entry.at)
      this.#session = session
    }
  }

  /**
   * A cursor for a client that has `lastEventId`: the events after it, held
   * here or fetched with `fetch`, or a gap event first when they are not all
   * in Redis any more; without one, the last `last` held events (none by
   * default), then live events. A client that starts with a fetch holds the
   * topic from now on.
   */
  subscribe(
    lastEventId: string | undefined,
    last: number,
    fetch: FetchRange,
  ): Cursor | Promise<AsyncIterator<ServerSentEvent>> {
    const topic = this.topic as Topic
    topic.trim()
    if (lastEventId === undefined || lastEventId === '') {
      const start = Math.max(topic.first, topic.next - last)
      return new Cursor(topic, start, start === topic.next ? topic.positionResult() : undefined)
    }
    if (!isStreamId(lastEventId)) return this.#gap('malformed')
    const before = topic.beforeId
    const order = compareIds(lastEventId, before)
    if (order === 0) return new Cursor(topic, topic.first)
    if (order < 0) return this.#fetch(lastEventId, fetch)
    const seq = this.#seqOf(lastEventId)
    return seq === undefined ? this.#gap('unknown') : new Cursor(topic, seq + 1)
  }

  // Older than what is held here: the events after it from Redis, up to the
  // newest held here, then the local history from there. Placed after the
  // fetch at the far end of the history, not at its oldest event (which the
  // next event evicts), the client keeps up however fast events come.
  async #fetch(after: string, fetch: FetchRange): Promise<AsyncIterator<ServerSentEvent>> {
    const topic = this.topic as Topic
    // A subscriber meanwhile, so that the topic is not let go during the fetch.
    const holder = new Cursor(topic, topic.next)
    let started: AsyncIterator<ServerSentEvent>
    try {
      started = this.#resume(after, await fetch(after), fetch.count)
    } finally {
      holder.return()
    }
    return started
  }

  // The fetched entries up to the latest held, then a cursor after them; or a
  // gap when they do not all follow `after`, or do not reach what is held.
  #resume(after: string, entries: StreamEntry[], count: number): AsyncIterator<ServerSentEvent> {
    const topic = this.topic as Topic
    const first = entries[0]
    if (!first || !isChain(entries, after, entries.at(-1)?.event.id as string)) {
      // The first entry after the id names the one before it: if that is
      // older, the id was never in the stream; else it was trimmed since.
      const unknown = first !== undefined && isStreamId(first.prev) && compareIds(first.prev, after) < 0
      return this.#gap(unknown ? 'unknown' : 'expired')
    }
    // Those this process has not read yet come from its history, in turn.
    let end = entries.length
    while (end > 0 && compareIds((entries[end - 1] as StreamEntry).event.id as string, topic.latestId) > 0) end--
    const last = entries[end - 1]?.event.id
    const seq = last === topic.beforeId ? topic.first : last === undefined ? undefined : this.#seqOf(last)
    // Not reached: more than the fetch brings back, or the history moved past it meanwhile.
    if (seq === undefined) return this.#gap(entries.length >= count ? 'expired' : 'behind')
    const events = entries.slice(0, end).map((entry) => entry.event)
    return new ReplayIterator(events, new Cursor(topic, last === topic.beforeId ? seq : seq + 1))
  }

  #gap(reason: GapReason): Cursor {
    const topic = this.topic as Topic
    const gap = gapEvent({ reason, oldest: topic.oldestId, latest: topic.latestId })
    return new Cursor(topic, topic.next, { done: false, value: gap })
  }

  // The sequence number of held event `id`, by binary search (ids grow with it).
  #seqOf(id: string): number | undefined {
    const topic = this.topic as Topic
    let low = topic.first
    let high = topic.next - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const order = compareIds(topic.entry(middle)?.result.value.id as string, id)
      if (order === 0) return middle
      if (order < 0) low = middle + 1
      else high = middle - 1
    }
    return undefined
  }
}
