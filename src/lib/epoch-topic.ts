/**
 * A topic that assigns its own ids, in a process or in a Durable Object:
 * `<epoch>-<n>`, where `n` counts its events from 1 and the epoch is drawn at
 * random when the topic is made. A topic made anew (a restarted process, a
 * topic dropped once empty, a store that lost its data) has another epoch,
 * so an id of an earlier instance is told apart from its own instead of being
 * taken for a position in it.
 */
import { Cursor } from './cursor.ts'
import { type GapReason, gapEvent } from './gap.ts'
import { type HistoryLimits, Topic } from './topic.ts'
import { checkIdempotencyKey, checkTopicEvent, type PublishOptions, type TopicEvent } from './topic-event.ts'

// Eight base-36 characters (41 bits), then the event's number in plain decimal.
const ID = /^([0-9a-z]{8})-(0|[1-9][0-9]{0,15})$/

// Random bytes drawn a kilobyte at a time: one call per epoch costs more than the rest of making a topic.
const randomBytes = new Uint8Array(1024)
let randomUsed = randomBytes.length

function newEpoch(): string {
  if (randomUsed + 8 > randomBytes.length) {
    crypto.getRandomValues(randomBytes)
    randomUsed = 0
  }
  let epoch = ''
  for (let i = 0; i < 8; i++) epoch += ((randomBytes[randomUsed++] as number) % 36).toString(36)
  return epoch
}

/** An event as a store keeps it to restore the topic later (a Durable Object's storage). */
export interface StoredEvent {
  /** Its number: the id is `<epoch>-<n>`. */
  n: number
  event?: string
  data: string
  /** When it was published (`Date.now()`). */
  at: number
}

/** A topic as a store kept it: restoring it keeps its ids, so clients resume across restarts. */
export interface TopicState {
  epoch: string
  /** The number of the last event ever published (held or not). */
  last: number
  /** The held events, oldest first. */
  events: StoredEvent[]
  /** Idempotency keys within their window: key, id, when. */
  keys: [string, string, number][]
}

/** What a topic does beyond its history. */
export interface EpochTopicOptions extends HistoryLimits {
  /** Milliseconds an idempotency key is remembered. */
  idempotencyMs: number
  /** Runs when the last subscriber leaves. */
  onIdle?: () => void
}

/** What a publish did. */
export interface Published {
  id: string
  /** The event as held, or `undefined` when the idempotency key had been used: nothing was published. */
  stored: StoredEvent | undefined
}

/** Idempotency keys remembered per topic at most, whatever the window: memory stays bounded. */
export const MAX_KEYS = 10_000

export class EpochTopic {
  readonly epoch: string
  readonly topic: Topic
  readonly #idempotencyMs: number
  // In publish order, so the oldest expire first.
  readonly #keys = new Map<string, { id: string; at: number }>()

  /** A new topic, or the one `state` describes. */
  constructor(options: EpochTopicOptions, state?: TopicState) {
    const { history, historyMs, idempotencyMs, onIdle } = options
    this.epoch = state?.epoch ?? newEpoch()
    this.#idempotencyMs = idempotencyMs
    const first = state?.events[0]?.n ?? (state?.last ?? 0) + 1
    this.topic = new Topic({ history, historyMs }, this.#id(first - 1), first, onIdle)
    for (const { n, event, data, at } of state?.events ?? []) {
      this.topic.append(event === undefined ? { id: this.#id(n), data } : { event, id: this.#id(n), data }, at)
    }
    for (const [key, id, at] of state?.keys ?? []) this.#keys.set(key, { id, at })
    this.trim()
  }

  /** Appends `event` (checked: a refused one throws a `TypeError`) unless its idempotency key was used. */
  publish(event: TopicEvent, options: PublishOptions = {}): Published {
    const checked = checkTopicEvent(event)
    const key = options.idempotencyKey === undefined ? undefined : checkIdempotencyKey(options.idempotencyKey)
    const now = Date.now()
    this.#trimKeys(now)
    const used = key === undefined ? undefined : this.#keys.get(key)
    if (used) return { id: used.id, stored: undefined }
    const n = this.topic.next
    const id = this.#id(n)
    this.topic.append({ ...checked, id }, now)
    if (key !== undefined) {
      if (this.#keys.size >= MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value as string)
      this.#keys.set(key, { id, at: now })
    }
    return { id, stored: { n, ...checked, at: now } }
  }

  /**
   * A cursor for a client that has `lastEventId`: the events after it, or a
   * gap event if the topic does not hold them all; without one, the last
   * `last` held events (none by default), then live events.
   */
  subscribe(lastEventId: string | undefined, last = 0): Cursor {
    const topic = this.topic
    topic.trim()
    if (lastEventId === undefined || lastEventId === '') {
      const start = Math.max(topic.first, topic.next - last)
      return new Cursor(topic, start, start === topic.next ? topic.positionResult() : undefined)
    }
    const match = ID.exec(lastEventId)
    const n = match?.[1] === this.epoch ? Number(match[2]) : undefined
    if (n !== undefined && n >= topic.first - 1 && n < topic.next) return new Cursor(topic, n + 1)
    const reason: GapReason = !match ? 'malformed' : n === undefined || n >= topic.next ? 'unknown' : 'expired'
    const gap = gapEvent({ reason, oldest: topic.oldestId, latest: topic.latestId })
    return new Cursor(topic, topic.next, { done: false, value: gap })
  }

  /** Drops what has expired; `true` when nothing is left but the epoch, so the topic can go. */
  trim(now = Date.now()): boolean {
    this.#trimKeys(now)
    return this.topic.trim(now) && this.#keys.size === 0
  }

  /** Idempotency keys within their window, to store with the events. */
  keys(): TopicState['keys'] {
    return Array.from(this.#keys, ([key, { id, at }]) => [key, id, at])
  }

  #trimKeys(now: number): void {
    for (const [key, { at }] of this.#keys) {
      if (at > now - this.#idempotencyMs) break
      this.#keys.delete(key)
    }
  }

  #id(n: number): string {
    return `${this.epoch}-${n}`
  }
}
