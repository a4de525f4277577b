/**
 * What a publisher hands a topic, checked the same way by every store
 * (memory, Redis, Durable Objects) before anything is kept or sent: a refused
 * event throws a `TypeError` and reaches no store and no client.
 */
import { encodeEvent } from './encoder.ts'
import { GAP_EVENT } from './gap.ts'

/** An event to publish. The topic assigns its `id`; `retry` is a stream's, not an event's. */
export interface TopicEvent {
  /** The event type; omitted or `''` means `message`. No CR or LF, and not `gap` (the topic's own). */
  event?: string
  /** The data, any string; line breaks reach the client as LF. */
  data: string
}

/** Options of a publish. */
export interface PublishOptions {
  /**
   * The same key again within the store's idempotency window (per topic)
   * publishes nothing and returns the first publish's id: a publisher that
   * never saw the answer can retry safely.
   */
  idempotencyKey?: string
}

/** `event` as the topic keeps it: only `event` (when not `''`) and `data`; throws a `TypeError` if refused. */
export function checkTopicEvent(event: TopicEvent): TopicEvent {
  if (typeof event !== 'object' || event === null) {
    throw new TypeError(`a topic event must be an object, got ${event === null ? 'null' : typeof event}`)
  }
  const { event: type, data, ...rest } = event as TopicEvent & Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length > 0) {
    throw new TypeError(`a topic event has only "event" and "data" (the topic sets the id), got "${extra[0]}"`)
  }
  if (typeof data !== 'string') throw new TypeError(`SSE field "data" must be a string, got ${typeof data}`)
  if (type === GAP_EVENT) throw new TypeError(`the event type "${GAP_EVENT}" is the topic's own: it reports a gap`)
  encodeEvent({ event: type, data }) // the encoder's own checks (CR or LF in the type)
  return type === undefined || type === '' ? { data } : { event: type, data }
}

/** An idempotency key: a non-empty string of at most 256 characters. */
export function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== 'string' || key === '' || key.length > 256) {
    throw new TypeError('an idempotency key must be a string of 1 to 256 characters')
  }
  return key
}

/** A topic name: a non-empty string of at most 256 characters (what it may hold is the application's choice). */
export function checkTopicName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.length > 256) {
    throw new TypeError(`a topic name must be a string of 1 to 256 characters, got ${JSON.stringify(name)}`)
  }
  return name
}
