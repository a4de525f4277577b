/**
 * Topics on Workers, as the Worker sees them: a `TopicStore` whose every topic
 * is a Durable Object (`TopicObject`, one per name, `idFromName`), so that all
 * the clients of a topic read one history wherever their requests land. The
 * Worker checks what it is given (a refused event throws here and reaches no
 * object), then forwards it to the topic's object, which publishes, stores
 * and streams; the stream's bytes pass through the Worker untouched.
 */
import { checkRetry } from './encoder.ts'
import { lastEventId } from './last-event-id.ts'
import { corsHeaders, streamHeaders } from './response.ts'
import {
  checkIdempotencyKey,
  checkTopicEvent,
  checkTopicName,
  type PublishOptions,
  type TopicEvent,
} from './topic-event.ts'
import { checkInteger, checkKeepAlive, type TopicLimits, type TopicsOptions, topicLimits } from './topic-options.ts'
import {
  OBJECT_ORIGIN,
  objectQuery,
  PUBLISH_PATH,
  type PublishBody,
  SUBSCRIBE_PATH,
  type TopicNamespace,
} from './topic-protocol.ts'
import { TopicUnavailableError } from './topic-unavailable.ts'
import type { TopicResponseOptions, TopicStore } from './types.ts'

// The object stores an event as one value, and a SQLite-backed object's value
// holds 2 MB at most: 512 KiB of UTF-8 is 1 MiB at most however it is stored.
const MAX_EVENT_BYTES = 512 * 1024
const utf8 = new TextEncoder()

/**
 * Topics in Durable Objects: publish to one by name, answer a client with its
 * stream. Every Worker isolate that makes one with the same binding and
 * options reaches the same topics.
 */
export class DurableTopics implements TopicStore {
  readonly #namespace: TopicNamespace
  readonly #limits: TopicLimits

  /**
   * `namespace` is the binding of `TopicObject`; `options` are the topics'
   * limits, sent to each object with every request (an object keeps those of
   * the first request it gets after it starts). Throws a `TypeError` for an
   * option out of range or a binding that is not a namespace.
   */
  constructor(namespace: TopicNamespace, options: TopicsOptions = {}) {
    const given = namespace as Partial<TopicNamespace> | undefined
    if (typeof given?.idFromName !== 'function' || typeof given.get !== 'function') {
      throw new TypeError('DurableTopics: namespace must be the Durable Object namespace binding of TopicObject')
    }
    this.#namespace = namespace
    this.#limits = topicLimits('DurableTopics', options)
  }

  /**
   * Appends `event` to topic `name` in its object and resolves to the id it
   * got, once the event is stored. A refused event (see `Topics.publish`, and
   * here also one over 512 KiB of data and type in UTF-8, more than the
   * object can store) throws a `TypeError` here, in the Worker, and reaches
   * no object; an object that cannot be reached rejects with a
   * `TopicUnavailableError` (retry with the same idempotency key: it is
   * applied once).
   */
  async publish(name: string, event: TopicEvent, options: PublishOptions = {}): Promise<string> {
    checkTopicName(name)
    const checked = checkTopicEvent(event)
    const size = utf8.encode(checked.data).length + utf8.encode(checked.event ?? '').length
    if (size > MAX_EVENT_BYTES) {
      throw new TypeError(`an event on Workers has at most ${MAX_EVENT_BYTES} bytes of data and type, got ${size}`)
    }
    const { idempotencyKey } = options
    const body: PublishBody =
      idempotencyKey === undefined ? checked : { ...checked, idempotencyKey: checkIdempotencyKey(idempotencyKey) }
    const request = new Request(`${OBJECT_ORIGIN}${PUBLISH_PATH}?${objectQuery(this.#limits)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    const answer = await this.#send(name, request)
    if (answer.status !== 201) throw await failure(name, answer)
    return ((await answer.json()) as { id: string }).id
  }

  /**
   * Answers `request` with the event stream of topic `name`, served by its
   * object: the events after the client's `Last-Event-ID` (or a `gap` event),
   * or the last `last` held ones, then live events.
   *
   * Honoured: `retry`, `keepAliveMs` and `last` (sent to the object, which
   * runs the stream), `allowOrigin`, `headers` and `onOpen` (applied here).
   * `streams` and `onEnd` throw a `TypeError`: the stream runs in the object,
   * where neither a registry nor a function of this Worker can follow it.
   * `HEAD` is answered here, without the object.
   */
  async response(request: Request, name: string, options: TopicResponseOptions = {}): Promise<Response> {
    checkTopicName(name)
    if (options.streams !== undefined || options.onEnd !== undefined) {
      throw new TypeError(
        `DurableTopics: ${options.streams !== undefined ? 'streams' : 'onEnd'} cannot be honoured, ` +
          "the stream runs in the topic's Durable Object",
      )
    }
    const { retry, keepAliveMs, last } = options
    if (retry !== undefined) checkRetry(retry)
    if (keepAliveMs !== undefined) checkKeepAlive('DurableTopics', keepAliveMs)
    if (last !== undefined) checkInteger('DurableTopics', 'last', last, 0, this.#limits.history)
    const headers = streamHeaders(corsHeaders(options))
    if (request.method === 'HEAD') return new Response(null, { headers })
    const query = objectQuery(this.#limits, { retry, keepAliveMs, last, lastEventId: lastEventId(request) })
    // When the client has gone, the Worker's next write to it fails and the
    // runtime cancels this body; the object's next write then aborts its
    // request's signal, which releases the cursor (topic-object.ts).
    const answer = await this.#send(name, new Request(`${OBJECT_ORIGIN}${SUBSCRIBE_PATH}?${query}`))
    if (answer.status !== 200) throw await failure(name, answer)
    const response = new Response(answer.body, { headers })
    options.onOpen?.(request)
    return response
  }

  async #send(name: string, request: Request): Promise<Response> {
    const stub = this.#namespace.get(this.#namespace.idFromName(name))
    try {
      return await stub.fetch(request)
    } catch (error) {
      throw new TopicUnavailableError(`topic "${name}": its Durable Object cannot be reached: ${String(error)}`, {
        cause: error,
      })
    }
  }
}

/** What an answer other than success means: a refusal (`TypeError`) or an object that failed. */
async function failure(name: string, answer: Response): Promise<Error> {
  const text = (await answer.text()).trim()
  if (answer.status === 400) return new TypeError(text)
  return new TopicUnavailableError(`topic "${name}": its Durable Object answered ${answer.status}: ${text}`)
}
