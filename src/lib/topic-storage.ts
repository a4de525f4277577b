/**
 * A topic kept in its Durable Object's storage as well as in memory, so that
 * it outlives the object (evicted when idle, restarted by a code update) with
 * its epoch, its numbering, its held events and its idempotency keys: clients
 * resume across a restart with the ids they have. Every change is written as
 * it is made in memory (a publish is one atomic `put` of a few keys), and
 * what the history drops is deleted, so storage holds what memory holds.
 *
 * Writes are not awaited, as Durable Objects intend: the object's output gate
 * holds every answer and every streamed byte until the writes before it are
 * durable, and a write that fails restarts the object. So no client sees an
 * event, nor a publisher its id, before the event is stored. A write that
 * fails anyway (the runtime refused it) resets the object, so that memory
 * never runs ahead of storage: the object starts again from what it stored,
 * and its clients reconnect to that.
 *
 * Storage keys: `meta` (`{ epoch, last }`), `e:<n>` for each held event (`n`
 * in 16 digits, so they list in order), `k:<key>` for each idempotency key.
 */
import type { Cursor } from './cursor.ts'
import { EpochTopic, MAX_KEYS, type StoredEvent, type TopicState } from './epoch-topic.ts'
import type { PublishOptions, TopicEvent } from './topic-event.ts'
import type { TopicLimits } from './topic-options.ts'

/**
 * What a topic needs of a Durable Object's `ctx.storage`: the key-value API,
 * which SQLite-backed objects (`new_sqlite_classes`) and KV-backed ones both have.
 */
export interface TopicStorage {
  get<T>(key: string): Promise<T | undefined>
  list<T>(options: { prefix: string }): Promise<Map<string, T>>
  put<T>(entries: Record<string, T>): Promise<void>
  delete(keys: string[]): Promise<number>
  deleteAll(): Promise<void>
  getAlarm(): Promise<number | null>
  setAlarm(scheduledTime: number): Promise<void>
  deleteAlarm(): Promise<void>
}

/** What a topic's object needs of its `ctx` (a `DurableObjectState`). */
export interface TopicObjectState {
  /** Where the topic outlives the object. */
  readonly storage: TopicStorage
  /** Holds every request until the stored topic is read. */
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>
  /** Resets the object: what it holds in memory goes, what it stored stays. */
  abort(reason?: string): void
}

/** What an object finds in its storage when it starts. */
export interface StoredTopicState {
  /** The topic as it was left; `undefined` for a topic never used (or cleaned up). */
  state: TopicState | undefined
  /** When its cleanup alarm is due, if one is set. */
  alarm: number | null
}

interface Meta {
  epoch: string
  /** The number of the last event ever published. */
  last: number
}

const META = 'meta'
const EVENT = 'e:'
const KEY = 'k:'
// What one delete() call takes at most.
const BATCH = 128
// Cleanup alarms are rounded up to the minute: a busy topic moves its alarm once a minute, not at every publish.
const ALARM_STEP_MS = 60_000

function eventKey(n: number): string {
  return EVENT + String(n).padStart(16, '0')
}

/** Reads what a topic left in storage. */
export async function loadTopic(storage: TopicStorage): Promise<StoredTopicState> {
  const [meta, events, keys, alarm] = await Promise.all([
    storage.get<Meta>(META),
    storage.list<StoredEvent>({ prefix: EVENT }),
    storage.list<[string, number]>({ prefix: KEY }),
    storage.getAlarm(),
  ])
  if (!meta) return { state: undefined, alarm }
  const keyList = Array.from(keys, ([key, [id, at]]): [string, string, number] => [key.slice(KEY.length), id, at])
  return {
    state: {
      epoch: meta.epoch,
      last: meta.last,
      events: [...events.values()],
      // Oldest first, as the topic expires them.
      keys: keyList.sort((a, b) => a[2] - b[2]),
    },
    alarm,
  }
}

/** A topic whose every change is written to its object's storage. */
export class StoredTopic {
  readonly topic: EpochTopic
  readonly #storage: TopicStorage
  readonly #limits: TopicLimits
  // The oldest event number still in storage.
  #firstStored: number
  // Idempotency keys in storage and when they were used, oldest first, expired by the topic's own rule.
  readonly #keys = new Map<string, number>()
  // When the newest of them was used.
  #newestKey = 0
  #alarm: number | null
  readonly #writeFailed: (error: unknown) => void

  /**
   * The topic `loaded` describes (or a new one), with `limits`: what the
   * limits now drop (a smaller history, events past their age) is deleted.
   * `onIdle` runs when its last client leaves, `writeFailed` if a write fails.
   */
  constructor(
    storage: TopicStorage,
    loaded: StoredTopicState,
    limits: TopicLimits,
    onIdle: () => void,
    writeFailed: (error: unknown) => void,
  ) {
    this.#storage = storage
    this.#writeFailed = writeFailed
    this.#limits = limits
    this.#alarm = loaded.alarm
    const { state } = loaded
    this.topic = new EpochTopic({ ...limits, onIdle }, state)
    this.#firstStored = state?.events[0]?.n ?? this.topic.topic.next
    for (const [key, , at] of state?.keys ?? []) this.#useKey(key, at)
    // A new topic's epoch is stored at once: a client that got its position reconnects into the same topic.
    if (!state) this.#write(this.#storage.put<Meta>({ [META]: { epoch: this.topic.epoch, last: 0 } }))
    this.#dropExpired(Date.now())
    this.armCleanup()
  }

  /** Publishes `event` and writes it; returns its id. A refused event throws a `TypeError` and writes nothing. */
  publish(event: TopicEvent, options: PublishOptions): string {
    const { id, stored } = this.topic.publish(event, options)
    if (stored) {
      const entries: Record<string, unknown> = {
        [META]: { epoch: this.topic.epoch, last: stored.n } satisfies Meta,
        [eventKey(stored.n)]: stored,
      }
      const key = options.idempotencyKey
      if (key !== undefined) {
        entries[KEY + key] = [id, stored.at]
        this.#useKey(key, stored.at)
      }
      this.#write(this.#storage.put(entries))
      this.#dropExpired(stored.at)
      this.armCleanup()
    }
    return id
  }

  /** A cursor for a client (see {@link EpochTopic.subscribe}); what expired meanwhile is deleted. */
  subscribe(lastEventId: string | undefined, last: number): Cursor {
    const cursor = this.topic.subscribe(lastEventId, last)
    this.#deleteDropped()
    return cursor
  }

  /**
   * Sets the cleanup alarm no sooner than the moment everything stored now has
   * expired: the object then deletes it all if no client reads the topic. A
   * topic held by count only (`historyMs` 0) that holds events keeps them.
   */
  armCleanup(): void {
    const at = this.#expiresAt()
    if (at === undefined) {
      if (this.#alarm !== null) this.#write(this.#storage.deleteAlarm())
      this.#alarm = null
      return
    }
    if (this.#alarm !== null && this.#alarm >= at) return
    this.#alarm = Math.ceil((at + 1) / ALARM_STEP_MS) * ALARM_STEP_MS
    this.#write(this.#storage.setAlarm(this.#alarm))
  }

  /** The cleanup alarm ran: none is set any more. */
  alarmFired(): void {
    this.#alarm = null
  }

  // When nothing stored is of use any more; undefined: never (events held by count only).
  #expiresAt(): number | undefined {
    const { topic } = this.topic
    const newest = topic.entry(topic.next - 1)
    const { historyMs, idempotencyMs } = this.#limits
    if (newest && historyMs === 0) return undefined
    const at = newest ? newest.at + historyMs : 0
    return this.#keys.size > 0 ? Math.max(at, this.#newestKey + idempotencyMs) : at
  }

  #useKey(key: string, at: number): void {
    this.#keys.set(key, at)
    this.#newestKey = Math.max(this.#newestKey, at)
  }

  // The topic expires keys and events by itself: storage follows.
  #dropExpired(now: number): void {
    const expired: string[] = []
    for (const [key, at] of this.#keys) {
      if (at > now - this.#limits.idempotencyMs && this.#keys.size - expired.length <= MAX_KEYS) break
      expired.push(key)
    }
    for (const key of expired) this.#keys.delete(key)
    this.#delete(expired.map((key) => KEY + key))
    this.#deleteDropped()
  }

  #deleteDropped(): void {
    const first = this.topic.topic.first
    const dropped: string[] = []
    for (let n = this.#firstStored; n < first; n++) dropped.push(eventKey(n))
    this.#firstStored = Math.max(this.#firstStored, first)
    this.#delete(dropped)
  }

  #delete(keys: string[]): void {
    for (let i = 0; i < keys.length; i += BATCH) this.#write(this.#storage.delete(keys.slice(i, i + BATCH)))
  }

  #write(write: Promise<unknown>): void {
    write.catch(this.#writeFailed)
  }
}
