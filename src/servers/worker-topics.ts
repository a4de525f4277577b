/**
 * The demo's topics on Workers: `DurableTopics`, given what the demo's routes
 * give every store but the app's registry and log line (`streams`, `onEnd`),
 * which cannot follow a stream that runs in its Durable Object. With the
 * debug routes on, it remembers the names it served, so that `/debug/streams`
 * can ask their objects what they hold (subscribers back to 0 when clients leave),
 * and `/debug/publish` has the object publish a flood itself (worker.ts).
 */
import type { DurableTopics } from '../lib/durable-topics.ts'
import type { PublishOptions, TopicEvent } from '../lib/topic-event.ts'
import type { TopicLimits } from '../lib/topic-options.ts'
import { OBJECT_ORIGIN, objectCounts, objectQuery, type TopicNamespace } from '../lib/topic-protocol.ts'
import type { TopicResponseOptions, TopicStore } from '../lib/types.ts'

/** What `/debug/streams` adds for topics whose streams run in Durable Objects. */
export interface ObjectTotals {
  /** Topics whose object has subscribers or held events. */
  topics: number
  /** Their subscribers (cursors). */
  subscribers: number
  /** Their objects' open streams. */
  streams: number
}

/** The object's debug path that publishes `count` events itself (worker.ts). */
export const FLOOD_PATH = '/debug/flood'

export class WorkerTopics implements TopicStore {
  readonly #topics: DurableTopics
  readonly #namespace: TopicNamespace
  readonly #limits: TopicLimits
  // Only with the debug routes: names served, for counts().
  readonly #names: Set<string> | undefined

  constructor(topics: DurableTopics, namespace: TopicNamespace, limits: TopicLimits, debug: boolean) {
    this.#topics = topics
    this.#namespace = namespace
    this.#limits = limits
    this.#names = debug ? new Set() : undefined
  }

  publish(name: string, event: TopicEvent, options?: PublishOptions): Promise<string> {
    this.#names?.add(name)
    return this.#topics.publish(name, event, options)
  }

  response(request: Request, name: string, options: TopicResponseOptions = {}): Promise<Response> {
    this.#names?.add(name)
    const { streams: _streams, onEnd: _onEnd, ...honoured } = options
    return this.#topics.response(request, name, honoured)
  }

  /** What the objects of the topics served so far hold now (debug routes only). */
  async counts(): Promise<ObjectTotals> {
    const totals: ObjectTotals = { topics: 0, subscribers: 0, streams: 0 }
    const all = await Promise.all(Array.from(this.#names ?? [], (name) => objectCounts(this.#namespace, name)))
    for (const { subscribers, streams, held } of all) {
      if (subscribers > 0 || held > 0) totals.topics++
      totals.subscribers += subscribers
      totals.streams += streams
    }
    return totals
  }

  /**
   * Has topic `name`'s object publish `count` events of `size` bytes itself
   * (debug routes only): 20,000 publishes each a round trip from the Worker
   * would take minutes under wrangler dev, each one waiting for its write.
   */
  async flood(name: string, count: number, size: number): Promise<{ last: string }> {
    this.#names?.add(name)
    const query = objectQuery(this.#limits, { count, size })
    const stub = this.#namespace.get(this.#namespace.idFromName(name))
    const answer = await stub.fetch(new Request(`${OBJECT_ORIGIN}${FLOOD_PATH}?${query}`, { method: 'POST' }))
    return { last: ((await answer.json()) as { id: string }).id }
  }
}
