/**
 * What the Worker (durable-topics.ts) and a topic's Durable Object
 * (topic-object.ts) say to each other: internal requests to the object's
 * `fetch`, which no client ever sees (an object is reached only through its
 * namespace binding). The topic's limits travel with every request, since the
 * object has no configuration of its own.
 */
import { checkInteger, type TopicLimits, topicLimits } from './topic-options.ts'

/** What `DurableTopics` needs of a Durable Object stub: its `fetch`. */
export interface TopicStub {
  /** Sends a request to the object. */
  fetch(request: Request): Promise<Response>
}

/**
 * What `DurableTopics` needs of the namespace binding of `TopicObject`
 * (`env.TOPICS`, a `DurableObjectNamespace`): one object per topic name.
 */
export interface TopicNamespace<Id = unknown> {
  /** The id of the object named `name`: the same in every isolate. */
  idFromName(name: string): Id
  /** A stub of the object with that id. */
  get(id: Id): TopicStub
}

/** The origin of internal requests: the object never looks at it (`.invalid` resolves nowhere). */
export const OBJECT_ORIGIN = 'https://topic.edge-sse.invalid'

/** `POST`, JSON {@link PublishBody}: 201 `{"id"}`, or 400 with the `TypeError`'s message. */
export const PUBLISH_PATH = '/publish'
/** `GET` with the stream's options and `lastEventId` in the query: the event stream. */
export const SUBSCRIBE_PATH = '/subscribe'
/** `GET`: {@link TopicObjectCounts}, for the demo's debug route only. */
export const COUNTS_PATH = '/counts'

/** What a publish sends: the event, and its idempotency key (in the body: a key may hold what a header may not). */
export interface PublishBody {
  event?: string
  data: string
  idempotencyKey?: string
}

/** What one topic's object holds now. Debug only: the demo's `/debug/streams` reports it. */
export interface TopicObjectCounts {
  /** Cursors: clients reading the topic. */
  subscribers: number
  /** Event streams the object serves. */
  streams: number
  /** Events in its history. */
  held: number
}

/** The query of a request to the object: the topic's limits and `extra` (undefined values left out). */
export function objectQuery(limits: TopicLimits, extra: Record<string, string | number | undefined> = {}): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries({ ...limits, ...extra })) {
    if (value !== undefined) query.set(name, String(value))
  }
  return query.toString()
}

/** An integer query parameter, `undefined` when absent; a `TypeError` when it is not an integer. */
export function queryInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name)
  if (raw === null) return undefined
  if (!/^\d{1,16}$/.test(raw)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(raw)}`)
  return Number(raw)
}

/** The limits a request carries, checked as every store checks them. */
export function limitsOf(query: URLSearchParams): TopicLimits {
  return topicLimits('TopicObject', {
    history: queryInteger(query, 'history'),
    historyMs: queryInteger(query, 'historyMs'),
    idempotencyMs: queryInteger(query, 'idempotencyMs'),
  })
}

/** `last` of a subscribe request: 0 to the history. */
export function lastOf(query: URLSearchParams, history: number): number {
  return checkInteger('TopicObject', 'last', queryInteger(query, 'last') ?? 0, 0, history)
}

/** What topic `name`'s object holds now: for the demo's debug route, never part of the package's API. */
export async function objectCounts(namespace: TopicNamespace, name: string): Promise<TopicObjectCounts> {
  const answer = await namespace.get(namespace.idFromName(name)).fetch(new Request(`${OBJECT_ORIGIN}${COUNTS_PATH}`))
  return (await answer.json()) as TopicObjectCounts
}
