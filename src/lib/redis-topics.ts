/**
 * Topics kept in Redis Streams, shared by every process and machine that
 * uses the same Redis: any of them publishes, every client of every one gets
 * the event, and a client resumes on any of them from its `Last-Event-ID`,
 * since an event's id is its stream entry's id.
 *
 * Each process reads the topics its clients subscribe to on one connection of
 * its own (redis-reader.ts), into a local history per topic that its clients'
 * cursors read (redis-mirror.ts), as with topics in memory. Publishing is one
 * atomic script (redis-scripts.ts) on the client the user gives.
 */
import type { Redis } from 'ioredis'
import { Cursor } from './cursor.ts'
import { PendingIterator } from './pending-iterator.ts'
import { checkReady, command, whenReady } from './redis-client.ts'
import { readEntry } from './redis-entries.ts'
import { type FetchRange, RedisMirror } from './redis-mirror.ts'
import { type ReaderSource, RedisReader } from './redis-reader.ts'
import { defineScripts, publishEntry, snapshot } from './redis-scripts.ts'
import { eventStreamResponse } from './response.ts'
import {
  checkIdempotencyKey,
  checkTopicEvent,
  checkTopicName,
  type PublishOptions,
  type TopicEvent,
} from './topic-event.ts'
import {
  checkInteger,
  checkKeepAlive,
  MAX_MS,
  type TopicLimits,
  type TopicsOptions,
  topicLimits,
} from './topic-options.ts'
import { TopicUnavailableError } from './topic-unavailable.ts'
import type { StreamSource, SubscribeOptions, TopicResponseOptions, TopicStore } from './types.ts'

/** Options of {@link RedisTopics}: the client, and how much each topic holds (in Redis and in each process). */
export interface RedisTopicsOptions extends TopicsOptions {
  /**
   * An ioredis client (`new Redis(url)`), connected or connecting, used for
   * publishing and for reading history. The store reads new events on a
   * connection of its own, `redis.duplicate()`, named after this client's
   * `connectionName` with `:reader` added. Its `keyPrefix` must be unset
   * (use `prefix`): stream keys come back in replies, where ioredis does not
   * strip it.
   */
  redis: Redis
  /** Put before every key the store writes: `<prefix>topic:<name>` for a topic's stream. Default `'edge-sse:'`. */
  prefix?: string
  /**
   * Longest wait, in milliseconds, for Redis to answer a publish or a read of
   * a topic's history; past it, the call rejects with a `TopicUnavailableError`
   * (a connection that died without closing). Default 5000.
   */
  timeoutMs?: number
}

/**
 * Topics in Redis Streams: publish to one by name from any process, answer
 * each client with its stream in whichever process it reaches, and resume it
 * there from its `Last-Event-ID`.
 */
export class RedisTopics implements TopicStore {
  readonly #redis: Redis
  readonly #limits: TopicLimits
  readonly #prefix: string
  readonly #timeoutMs: number
  // The topics read in this process, by stream key.
  readonly #mirrors = new Map<string, RedisMirror>()
  #reader: RedisReader | undefined
  #ready: Promise<void> | undefined
  readonly #closed = new AbortController()
  readonly #source: ReaderSource = {
    positions: () => {
      const streams: string[] = []
      const ids: string[] = []
      for (const mirror of this.#mirrors.values()) {
        if (!mirror.topic) continue
        streams.push(mirror.stream)
        ids.push(mirror.topic.latestId)
      }
      return { streams, ids }
    },
    deliver: (stream, entries, session) => {
      const mirror = this.#mirrors.get(stream)
      if (mirror?.topic) mirror.apply(entries, session)
    },
  }

  /** Throws a `TypeError` for an option out of range, or a client this store cannot use. */
  constructor(options: RedisTopicsOptions) {
    const { redis } = options ?? {}
    if (typeof redis?.duplicate !== 'function' || typeof redis.defineCommand !== 'function') {
      throw new TypeError('RedisTopics: redis must be an ioredis client (new Redis(url))')
    }
    if (redis.options.keyPrefix) {
      throw new TypeError('RedisTopics: the client must have no keyPrefix; give RedisTopics a prefix instead')
    }
    const prefix = options.prefix ?? 'edge-sse:'
    if (typeof prefix !== 'string' || prefix.length > 256) {
      throw new TypeError('RedisTopics: prefix must be a string of at most 256 characters')
    }
    this.#redis = redis
    this.#limits = topicLimits('RedisTopics', options)
    this.#prefix = prefix
    this.#timeoutMs = checkInteger('RedisTopics', 'timeoutMs', options.timeoutMs ?? 5000, 1, MAX_MS)
    defineScripts(redis)
  }

  /** Topics read in this process now: those with subscribers here. */
  get size(): number {
    return this.#mirrors.size
  }

  /** Subscribers of every topic in this process now. */
  get subscribers(): number {
    let count = 0
    for (const mirror of this.#mirrors.values()) count += mirror.waiting + (mirror.topic?.subscribers ?? 0)
    return count
  }

  /**
   * Appends `event` to topic `name` in Redis; resolves to its id, the id of
   * its stream entry. A refused event (CR or LF in `event`, `data` not a
   * string, an `id` of its own, the type `gap`) rejects with a `TypeError`
   * before anything reaches Redis. While the client is not connected, or if
   * Redis does not answer within `timeoutMs`, it rejects with a
   * `TopicUnavailableError`. The same idempotency key again within
   * `idempotencyMs`, from any process, publishes nothing and resolves to the
   * first publish's id.
   */
  async publish(name: string, event: TopicEvent, options: PublishOptions = {}): Promise<string> {
    checkTopicName(name)
    const checked = checkTopicEvent(event)
    const key = options.idempotencyKey === undefined ? undefined : checkIdempotencyKey(options.idempotencyKey)
    const { history, historyMs, idempotencyMs } = this.#limits
    const redis = this.#redis
    return command(redis, 'the publish', this.#timeoutMs, () =>
      publishEntry(redis, {
        stream: this.#stream(name),
        idempotencyKey: key === undefined || idempotencyMs === 0 ? undefined : this.#idempotencyKey(name, key),
        history,
        historyMs,
        idempotencyMs,
        data: checked.data,
        event: checked.event,
      }),
    )
  }

  /**
   * A source for `eventStreamResponse`: each client gets the events after its
   * `Last-Event-ID` (or a `gap` event first when Redis no longer holds them
   * all), or else the last `last` events, then every event published while it
   * is connected, by any process. The first client of a topic in this process
   * waits for its recent history to be read from Redis (while Redis is away,
   * until it is back; its stream is open meanwhile).
   */
  subscribe(name: string, options: SubscribeOptions = {}): StreamSource {
    return this.#clientSource(name, options.last, 0)
  }

  #clientSource(name: string, last = 0, heartbeatMs: number): StreamSource {
    checkTopicName(name)
    checkInteger('subscribe', 'last', last, 0, this.#limits.history)
    const stream = this.#stream(name)
    const fetch = this.#fetchRange(stream)
    return ({ lastEventId }) => {
      const mirror = this.#mirror(stream)
      if (heartbeatMs > 0) {
        mirror.heartbeatMs = heartbeatMs
        if (mirror.topic) mirror.topic.heartbeatMs = heartbeatMs
      }
      if (mirror.topic) {
        const started = mirror.subscribe(lastEventId, last, fetch)
        // A fetch first: the topic is held meanwhile.
        return started instanceof Cursor ? started : new PendingIterator(started)
      }
      // The first subscribers wait for the topic's history; they hold it until then.
      mirror.waiting++
      let holding = true
      const leave = () => {
        if (!holding) return
        holding = false
        mirror.waiting--
        this.#idleCheck(mirror)
      }
      const started = mirror.loaded.then(() => mirror.subscribe(lastEventId, last, fetch)).finally(leave)
      return new PendingIterator(started, leave)
    }
  }

  /**
   * Answers `request` with the event stream of topic `name`: `eventStreamResponse`
   * of {@link subscribe}. While Redis is away, a topic this process holds is
   * still served from what it holds; one it does not hold throws a
   * `TopicUnavailableError` (the demo then tells the client to come back).
   */
  response(request: Request, name: string, options: TopicResponseOptions = {}): Response {
    // One keep-alive timer for the topic's streams in this process, not one each.
    const keepAliveMs = checkKeepAlive('RedisTopics', options.keepAliveMs)
    const source = this.#clientSource(name, options.last, keepAliveMs)
    if (!this.#mirrors.get(this.#stream(name))?.topic) checkReady(this.#redis)
    return eventStreamResponse(request, source, { ...options, keepAliveMs: 0 })
  }

  /**
   * Stops reading and closes the store's own connection; the client given
   * stays open (it is yours to close). Open streams get no more events: close
   * them first (a `StreamRegistry`'s `shutdown()`).
   */
  close(): void {
    this.#closed.abort()
    this.#reader?.close()
  }

  #stream(name: string): string {
    return `${this.#prefix}topic:${name}`
  }

  // The name's length first, so that no name and key pair can spell another's.
  #idempotencyKey(name: string, key: string): string {
    return `${this.#prefix}idempotency:${name.length}:${name}:${key}`
  }

  #mirror(stream: string): RedisMirror {
    let mirror = this.#mirrors.get(stream)
    if (!mirror) {
      const made = new RedisMirror(stream, this.#limits, () => this.#idleCheck(made))
      this.#mirrors.set(stream, made)
      made.loaded = this.#load(made)
      mirror = made
    }
    return mirror
  }

  // The snapshot a topic's local history starts from, then the reader follows it.
  async #load(mirror: RedisMirror): Promise<void> {
    const redis = this.#redis
    try {
      if (this.#closed.signal.aborted) throw new TopicUnavailableError('the Redis topics are closed')
      // While Redis is away, a first subscriber waits for it, its stream open.
      this.#ready ??= whenReady(redis, this.#closed.signal).finally(() => {
        this.#ready = undefined
      })
      await this.#ready
      this.#reader ??= new RedisReader(redis, this.#source)
      const session = this.#reader.session
      const { history } = this.#limits
      const [lastId, newest] = await command(redis, 'the read of a topic', this.#timeoutMs, () =>
        snapshot(redis, mirror.stream, history),
      )
      mirror.start(lastId, newest, session)
      this.#reader.wake()
    } catch (error) {
      // The next subscriber tries again.
      if (this.#mirrors.get(mirror.stream) === mirror) this.#mirrors.delete(mirror.stream)
      throw error
    }
  }

  // For a client further back than the local history: at most twice the
  // history, so one that fell back further gets the gap (what a client holds
  // for its replay stays bounded).
  #fetchRange(stream: string): FetchRange {
    const redis = this.#redis
    const count = 2 * this.#limits.history
    const fetch = (after: string) =>
      command(redis, 'the read of older events', this.#timeoutMs, () =>
        redis.xrange(stream, `(${after}`, '+', 'COUNT', count),
      ).then((entries) => entries.map(readEntry))
    return Object.assign(fetch, { count })
  }

  #idleCheck(mirror: RedisMirror): void {
    if (mirror.idle && this.#mirrors.get(mirror.stream) === mirror) this.#mirrors.delete(mirror.stream)
  }
}
