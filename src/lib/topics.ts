/**
 * Topics in this process: one event to many clients (a chat room, a
 * dashboard, notifications), each client a cursor into its topic's shared,
 * bounded history. Ids are `<epoch>-<n>` (epoch-topic.ts); a topic with no
 * subscriber and nothing held any more is dropped, so names touched once do
 * not stay. For topics shared by several processes, see `edge-sse/redis`; on
 * Workers, `edge-sse/cloudflare`.
 */
import { EpochTopic } from './epoch-topic.ts'
import { eventStreamResponse } from './response.ts'
import { unrefTimer } from './timers.ts'
import { checkTopicName, type PublishOptions, type TopicEvent } from './topic-event.ts'
import { checkInteger, checkKeepAlive, type TopicLimits, type TopicsOptions, topicLimits } from './topic-options.ts'
import type { StreamSource, SubscribeOptions, TopicResponseOptions, TopicStore } from './types.ts'

/** The topics of this process: publish to one by name, subscribe clients to it. */
export class Topics implements TopicStore {
  readonly #limits: TopicLimits
  readonly #topics = new Map<string, EpochTopic>()
  // Topics with no subscriber that still hold something, until it expires.
  readonly #idle = new Set<string>()
  readonly #sweepMs: number
  #sweep: ReturnType<typeof setTimeout> | undefined

  /** Throws a `TypeError` for an option out of range. */
  constructor(options: TopicsOptions = {}) {
    this.#limits = topicLimits('Topics', options)
    const { historyMs, idempotencyMs } = this.#limits
    // A tenth of the shortest window: what expired goes soon after.
    const shortest = Math.min(historyMs || idempotencyMs, idempotencyMs || historyMs)
    this.#sweepMs = Math.min(Math.max(shortest / 10, 1000), 60_000)
  }

  /** Topics held in memory now: those with subscribers or held events. */
  get size(): number {
    return this.#topics.size
  }

  /** Subscribers of every topic now. */
  get subscribers(): number {
    let count = 0
    for (const { topic } of this.#topics.values()) count += topic.subscribers
    return count
  }

  /**
   * Appends `event` to topic `name` and returns the id it assigned; waiting
   * subscribers get it right after this call returns. A refused event (CR or
   * LF in `event`, `data` not a string, an `id` of its own, the type `gap`)
   * throws a `TypeError` and reaches nobody.
   */
  publish(name: string, event: TopicEvent, options?: PublishOptions): string {
    const { id } = this.#topic(checkTopicName(name)).publish(event, options)
    this.#idleCheck(name)
    return id
  }

  /**
   * A source for `eventStreamResponse`: each client gets the events after its
   * `Last-Event-ID` (or a `gap` event first when the topic no longer holds
   * them all), or else the last `last` held events, then every event
   * published while it is connected.
   */
  subscribe(name: string, options: SubscribeOptions = {}): StreamSource {
    return this.#source(name, options.last, 0)
  }

  /**
   * Answers `request` with the event stream of topic `name`: `eventStreamResponse`
   * of {@link subscribe}, with one keep-alive timer for all the topic's
   * streams instead of one each (every `keepAliveMs` of quiet, a comment to
   * every client waiting).
   */
  response(request: Request, name: string, options: TopicResponseOptions = {}): Response {
    const keepAliveMs = checkKeepAlive('Topics', options.keepAliveMs)
    return eventStreamResponse(request, this.#source(name, options.last, keepAliveMs), { ...options, keepAliveMs: 0 })
  }

  #source(name: string, last = 0, heartbeatMs: number): StreamSource {
    checkTopicName(name)
    checkInteger('subscribe', 'last', last, 0, this.#limits.history)
    return ({ lastEventId }) => {
      const topic = this.#topic(name)
      if (heartbeatMs > 0) topic.topic.heartbeatMs = heartbeatMs
      return topic.subscribe(lastEventId, last)
    }
  }

  #topic(name: string): EpochTopic {
    let topic = this.#topics.get(name)
    if (!topic) {
      topic = new EpochTopic({ ...this.#limits, onIdle: () => this.#idleCheck(name) })
      this.#topics.set(name, topic)
    }
    return topic
  }

  // A topic nobody reads goes now if it holds nothing, else once what it holds has expired.
  #idleCheck(name: string, now?: number): void {
    const topic = this.#topics.get(name)
    if (!topic || topic.topic.subscribers > 0) {
      this.#idle.delete(name)
    } else if (topic.trim(now)) {
      this.#topics.delete(name)
      this.#idle.delete(name)
    } else {
      this.#idle.add(name)
    }
    if (this.#idle.size > 0 && this.#sweep === undefined) {
      this.#sweep = setTimeout(() => {
        this.#sweep = undefined
        const now = Date.now()
        for (const name of this.#idle) this.#idleCheck(name, now)
      }, this.#sweepMs)
      unrefTimer(this.#sweep)
    }
  }
}
