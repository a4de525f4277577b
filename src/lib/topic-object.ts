/**
 * The Durable Object of one topic on Workers. Isolates share no memory, so a
 * topic kept in a Worker's memory would split its clients between isolates
 * without a word; one object per topic name holds its history and every open
 * stream of it, and keeps the history in its storage (topic-storage.ts), so
 * that clients resume with their ids after the object is evicted or
 * restarted. `DurableTopics` (durable-topics.ts) is what the Worker talks to.
 *
 * It extends `DurableObject` from `cloudflare:workers`, the one import of the
 * runtime in the package, for its consumers' types: the `Env` that `wrangler
 * types` generates declares a binding as `DurableObjectNamespace<TopicObject>`,
 * which requires a class of that lineage (a plain class fails a consumer's
 * type check with `skipLibCheck` off, and `runInDurableObject` in tests), so
 * the subclass is what type-checks in a user's project. It still talks over
 * `fetch`, not RPC: a stream answered from `fetch` is one whose
 * `request.signal` tells the object that its client left, and the Worker
 * needs nothing but a stub's `fetch` (no runtime types in durable-topics.ts).
 */
import { DurableObject } from 'cloudflare:workers'
import { StreamRegistry } from './registry.ts'
import { eventStreamResponse } from './response.ts'
import type { PublishOptions, TopicEvent } from './topic-event.ts'
import { type TopicLimits, topicLimits } from './topic-options.ts'
import {
  COUNTS_PATH,
  lastOf,
  limitsOf,
  PUBLISH_PATH,
  type PublishBody,
  queryInteger,
  SUBSCRIBE_PATH,
  type TopicObjectCounts,
} from './topic-protocol.ts'
import { loadTopic, StoredTopic, type StoredTopicState, type TopicObjectState } from './topic-storage.ts'
import type { StreamEnd } from './types.ts'

const NOTHING_STORED: StoredTopicState = { state: undefined, alarm: null }

/**
 * The Durable Object class of topics: export it from your Worker
 * (`export { TopicObject } from 'edge-sse/cloudflare'`), bind it in your
 * wrangler config with a `new_sqlite_classes` migration, and give the binding
 * to `DurableTopics`. It is reached only through `DurableTopics`.
 *
 * It holds the topic's history and ids (an epoch and a count, as `Topics`
 * does) and one cursor per open stream; it takes its limits from the first
 * request it gets after it starts and keeps them until it stops (a deploy
 * restarts it). When nothing it holds is of use any more (every event past
 * `historyMs`, every idempotency key past its window) and no client reads it,
 * an alarm deletes its storage, and the topic starts again with a new epoch.
 */
export class TopicObject extends DurableObject<unknown> {
  readonly #state: TopicObjectState
  #loaded: StoredTopicState = NOTHING_STORED
  #topic: StoredTopic | undefined
  // The object's own streams: counted for the debug route, never capped.
  readonly #streams = new StreamRegistry()
  // Bound once: every stream's onEnd.
  readonly #ended = (end: StreamEnd) => this.onStreamEnd(end)

  /** Called by the runtime with the object's `ctx` and `env` (which it does not use). */
  constructor(ctx: ConstructorParameters<typeof DurableObject>[0], env: unknown) {
    super(ctx, env)
    const state: TopicObjectState = ctx
    this.#state = state
    // No request runs before the stored topic is read.
    state.blockConcurrencyWhile(async () => {
      this.#loaded = await loadTopic(state.storage)
    })
  }

  /** Answers `DurableTopics`: a publish, a subscriber's stream, or its counts (debug). */
  async fetch(request: Request): Promise<Response> {
    const { pathname, searchParams } = new URL(request.url)
    try {
      if (pathname === PUBLISH_PATH && request.method === 'POST') return await this.#publish(request, searchParams)
      if (pathname === SUBSCRIBE_PATH) return this.#subscribe(request, searchParams)
      if (pathname === COUNTS_PATH) return Response.json(this.#counts())
    } catch (error) {
      // A refused event or option: DurableTopics throws it again, as a TypeError, in the Worker.
      if (error instanceof TypeError) return new Response(error.message, { status: 400 })
      throw error
    }
    return new Response('not a request of DurableTopics\n', { status: 404 })
  }

  /**
   * Called once when a stream of this object ends, as `onEnd` is elsewhere
   * (a function cannot travel from the Worker to the object): override it in
   * a subclass to log or count. Does nothing by default.
   */
  protected onStreamEnd(_end: StreamEnd): void {}

  /**
   * Publishes from inside the object (a subclass's own route or alarm), as a
   * publish through `DurableTopics` does but without its round trip: returns
   * the id. The topic's limits are those of the object's first request since
   * it started, or the defaults before any.
   */
  protected publish(event: TopicEvent, options: PublishOptions = {}): string {
    return this.#open(topicLimits('TopicObject')).publish(event, options)
  }

  /** The cleanup alarm: deletes the topic's storage if nobody reads it (what it held has expired by then). */
  async alarm(): Promise<void> {
    const topic = this.#topic
    topic?.alarmFired()
    // Read by someone: it stays, and the alarm is set again when its last client leaves.
    if (topic && topic.topic.topic.subscribers > 0) return
    this.#topic = undefined
    this.#loaded = NOTHING_STORED
    await this.#state.storage.deleteAll()
  }

  #open(limits: TopicLimits): StoredTopic {
    if (!this.#topic) {
      this.#topic = new StoredTopic(
        this.#state.storage,
        this.#loaded,
        limits,
        () => this.#topic?.armCleanup(),
        (error) => this.#state.abort(`edge-sse: a topic's write failed: ${String(error)}`),
      )
      this.#loaded = NOTHING_STORED
    }
    return this.#topic
  }

  async #publish(request: Request, query: URLSearchParams): Promise<Response> {
    const limits = limitsOf(query)
    const { idempotencyKey, ...event } = (await request.json()) as PublishBody
    const id = this.#open(limits).publish(event, idempotencyKey === undefined ? {} : { idempotencyKey })
    return Response.json({ id }, { status: 201 })
  }

  #subscribe(request: Request, query: URLSearchParams): Response {
    const limits = limitsOf(query)
    const last = lastOf(query, limits.history)
    const topic = this.#open(limits)
    // The request's signal aborts when the client has gone (enable_request_signal), once
    // something is written to it: a keep-alive at the latest. Its cursor is released then.
    return eventStreamResponse(request, ({ lastEventId }) => topic.subscribe(lastEventId, last), {
      retry: queryInteger(query, 'retry'),
      keepAliveMs: queryInteger(query, 'keepAliveMs'),
      streams: this.#streams,
      onEnd: this.#ended,
    })
  }

  #counts(): TopicObjectCounts {
    const topic = this.#topic?.topic.topic
    return {
      subscribers: topic?.subscribers ?? 0,
      streams: this.#streams.size,
      held: topic ? topic.next - topic.first : (this.#loaded.state?.events.length ?? 0),
    }
  }
}
