/**
 * Topics on Workers, in workerd: DurableTopics in the Worker and TopicObject,
 * the Durable Object that holds each topic (the TOPICS binding of
 * wrangler.toml). Publish and subscribe, resume, the gap, refusals,
 * idempotency, a client that leaves, the history across an eviction (the
 * object starts anew from its storage), and the cleanup alarm.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { DurableTopics, type TopicObject } from '../../src/lib/cloudflare.ts'
import { topicLimits } from '../../src/lib/topic-options.ts'
import { OBJECT_ORIGIN, objectCounts, objectQuery, PUBLISH_PATH } from '../../src/lib/topic-protocol.ts'
import type { TopicResponseOptions } from '../../src/lib/types.ts'
import { EventStreamReader, type ReceivedEvent } from '../support/sse-client.ts'

const namespace = env.TOPICS
const stub = (name: string) => namespace.get(namespace.idFromName(name))
let topicCount = 0
/** A topic of its own for each test: objects outlive a test. */
const newTopic = () => `t${++topicCount}-${crypto.randomUUID().slice(0, 8)}`

/** A client of `topic` reading as EventSource does, from `lastEventId` if given. */
async function subscribe(
  topics: DurableTopics,
  name: string,
  lastEventId?: string,
  options: TopicResponseOptions = {},
): Promise<EventStreamReader> {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }
  const res = await topics.response(new Request(`http://example.com/topics/${name}`, { headers }), name, options)
  expect(res.status).toBe(200)
  return new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
}

/** Reads until the client has its position (`id:` of the newest event), so it misses nothing published next. */
async function positioned(client: EventStreamReader): Promise<EventStreamReader> {
  while (client.lastEventId === '') await client.readChunk()
  return client
}

/** What the topic's object keeps in storage: its epoch and last number, its events' numbers, its keys. */
function stored(name: string) {
  return runInDurableObject(stub(name), async (_: TopicObject, state) => {
    const all = await state.storage.list()
    const meta = all.get('meta') as { epoch: string; last: number } | undefined
    return {
      meta,
      events: [...all.keys()].filter((key) => key.startsWith('e:')).map((key) => Number(key.slice(2))),
      keys: [...all.keys()].filter((key) => key.startsWith('k:')).map((key) => key.slice(2)),
    }
  })
}

const datas = (events: ReceivedEvent[]) => events.map((event) => event.data)

describe('DurableTopics and TopicObject in workerd', () => {
  it('publishes to three subscribers of one topic: the same events, in order, ids <epoch>-<n>', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const clients = await Promise.all([1, 2, 3].map(async () => positioned(await subscribe(topics, name))))
    const ids: string[] = []
    for (const data of ['a', 'b', 'c']) ids.push(await topics.publish(name, { event: 'note', data }))
    expect(ids[0]).toMatch(/^[0-9a-z]{8}-1$/)
    expect(ids.map((id) => id.split('-')[1])).toEqual(['1', '2', '3'])
    const expected = ['a', 'b', 'c'].map((data, i) => ({ type: 'note', data, lastEventId: ids[i] }))
    for (const client of clients) expect(await client.take(3)).toEqual(expected)
    await Promise.all(clients.map((client) => client.cancel()))
  })

  it('resumes after Last-Event-ID with exactly the events it missed, then live ones', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const ids: string[] = []
    for (let n = 1; n <= 4; n++) ids.push(await topics.publish(name, { data: `e${n}` }))
    const client = await subscribe(topics, name, ids[1])
    expect(await client.take(2)).toEqual([
      { type: 'message', data: 'e3', lastEventId: ids[2] },
      { type: 'message', data: 'e4', lastEventId: ids[3] },
    ])
    const live = await topics.publish(name, { data: 'live' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
    await client.cancel()
  })

  it('gives a foreign id the gap event first, then live events', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const first = await topics.publish(name, { data: 'e1' })
    const client = await subscribe(topics, name, 'abcdefgh-1')
    const [gap] = await client.take(1)
    expect(gap?.type).toBe('gap')
    expect(JSON.parse(gap?.data as string)).toEqual({ reason: 'unknown', oldest: first, latest: first })
    expect(gap?.lastEventId).toBe(first)
    const live = await topics.publish(name, { data: 'live' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
    await client.cancel()
  })

  it('throws a TypeError in the Worker for a refused event, which reaches no client and no storage', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const client = await positioned(await subscribe(topics, name))
    const refused: [string, unknown][] = [
      ['SSE field "event" must not contain CR or LF', { event: 'a\nb', data: 'x' }],
      ['SSE field "data" must be a string, got number', { data: 1 }],
      ['the topic sets the id', { id: '7', data: 'x' }],
      ['the event type "gap" is the topic\'s own', { event: 'gap', data: 'x' }],
    ]
    for (const [message, event] of refused) {
      await expect(topics.publish(name, event as { data: string })).rejects.toThrow(TypeError)
      await expect(topics.publish(name, event as { data: string })).rejects.toThrow(message)
    }
    await expect(topics.publish(name, { data: 'x' }, { idempotencyKey: '' })).rejects.toThrow(TypeError)
    await expect(topics.publish('', { data: 'x' })).rejects.toThrow(TypeError)
    const after = await topics.publish(name, { data: 'after' })
    expect(after.endsWith('-1')).toBe(true)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'after', lastEventId: after }])
    expect((await stored(name)).events).toEqual([1])
    await client.cancel()
  })

  it('refuses in the Worker an event too big for its object to store, and resets an object whose write fails anyway', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const first = await topics.publish(name, { data: 'stored' })
    await expect(topics.publish(name, { data: 'x'.repeat(512 * 1024 + 1) })).rejects.toThrow(
      'an event on Workers has at most 524288 bytes of data and type, got 524289',
    )
    const client = await subscribe(topics, name, first)
    // Past the Worker's check, straight to the object: a value over storage's 2 MB.
    const query = objectQuery(topicLimits('test'))
    const body = JSON.stringify({ data: 'x'.repeat(2_500_000) })
    const publish = stub(name).fetch(new Request(`${OBJECT_ORIGIN}${PUBLISH_PATH}?${query}`, { method: 'POST', body }))
    await expect(publish).rejects.toThrow("a topic's write failed")
    // The object reset before a byte of the event went out: its client's stream breaks, and it starts again
    // from what it stored.
    await expect(client.take(1)).rejects.toThrow("a topic's write failed")
    expect(await objectCounts(namespace, name)).toEqual({ subscribers: 0, streams: 0, held: 1 })
    expect(await topics.publish(name, { data: 'next' })).toBe(`${first.split('-')[0]}-2`)
  })

  it('answers a publish retried with the same Idempotency-Key with the same id, and applies it once', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const client = await positioned(await subscribe(topics, name))
    const first = await topics.publish(name, { data: 'once' }, { idempotencyKey: 'retry-me\n(any string)' })
    const again = await topics.publish(name, { data: 'once' }, { idempotencyKey: 'retry-me\n(any string)' })
    const other = await topics.publish(name, { data: 'next' }, { idempotencyKey: 'another' })
    expect(again).toBe(first)
    expect(datas(await client.take(2))).toEqual(['once', 'next'])
    expect(other.endsWith('-2')).toBe(true)
    // The keys are stored too: a retry after the object restarts is still applied once.
    expect((await stored(name)).keys.sort()).toEqual(['another', 'retry-me\n(any string)'])
    await client.cancel()
    await evictDurableObject(stub(name))
    expect(await topics.publish(name, { data: 'once' }, { idempotencyKey: 'retry-me\n(any string)' })).toBe(first)
    expect((await stored(name)).events).toEqual([1, 2])
  })

  it('releases the cursor and the stream of a client that leaves: the object counts 0 again', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const clients = await Promise.all([1, 2].map(async () => positioned(await subscribe(topics, name))))
    expect(await objectCounts(namespace, name)).toEqual({ subscribers: 2, streams: 2, held: 0 })
    await (clients[0] as EventStreamReader).cancel()
    // The object learns it from its request's signal: poll its counts, no timer of its own.
    while ((await objectCounts(namespace, name)).subscribers !== 1) await scheduler.wait(5)
    expect(await objectCounts(namespace, name)).toEqual({ subscribers: 1, streams: 1, held: 0 })
    await (clients[1] as EventStreamReader).cancel()
    while ((await objectCounts(namespace, name)).subscribers !== 0) await scheduler.wait(5)
    expect(await objectCounts(namespace, name)).toEqual({ subscribers: 0, streams: 0, held: 0 })
  })

  it('keeps its history across an eviction: the same epoch, the held events, clients resume with their ids', async () => {
    const topics = new DurableTopics(namespace, { history: 3 })
    const name = newTopic()
    const ids: string[] = []
    for (let n = 1; n <= 5; n++) ids.push(await topics.publish(name, { data: `e${n}` }))
    // Only what the history holds stays in storage.
    expect(await stored(name)).toMatchObject({ meta: { epoch: ids[0]?.split('-')[0], last: 5 }, events: [3, 4, 5] })
    await evictDurableObject(stub(name))
    // A new instance, loaded from storage alone.
    const client = await subscribe(topics, name, ids[2])
    expect(await client.take(2)).toEqual([
      { type: 'message', data: 'e4', lastEventId: ids[3] },
      { type: 'message', data: 'e5', lastEventId: ids[4] },
    ])
    const sixth = await topics.publish(name, { data: 'e6' })
    expect(sixth).toBe(`${ids[0]?.split('-')[0]}-6`)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'e6', lastEventId: sixth }])
    // What fell out of the history before the eviction is still reported as expired.
    const late = await subscribe(topics, name, ids[0])
    const [gap] = await late.take(1)
    expect(JSON.parse(gap?.data as string)).toEqual({ reason: 'expired', oldest: ids[3], latest: sixth })
    await Promise.all([client.cancel(), late.cancel()])
  })

  it('keeps the epoch of a topic that was only subscribed to, so a client resumes after an eviction', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    const client = await positioned(await subscribe(topics, name))
    expect(client.lastEventId).toMatch(/^[0-9a-z]{8}-0$/)
    await client.cancel()
    await evictDurableObject(stub(name))
    const resumed = await subscribe(topics, name, client.lastEventId)
    const first = await topics.publish(name, { data: 'first' })
    expect(first).toBe(`${client.lastEventId.split('-')[0]}-1`)
    expect(await resumed.take(1)).toEqual([{ type: 'message', data: 'first', lastEventId: first }])
    await resumed.cancel()
  })

  it('sends retry, keep-alive and last to the object, and sets CORS and headers in the Worker', async () => {
    const topics = new DurableTopics(namespace)
    const name = newTopic()
    for (let n = 1; n <= 3; n++) await topics.publish(name, { data: `e${n}` })
    const options = {
      retry: 1500,
      keepAliveMs: 30,
      last: 2,
      allowOrigin: 'https://app.example',
      headers: { 'X-A': 'b' },
    }
    const res = await topics.response(new Request('http://example.com/'), name, options)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('x-a')).toBe('b')
    const client = new EventStreamReader(res.body as ReadableStream<Uint8Array>)
    expect(datas(await client.take(2))).toEqual(['e2', 'e3'])
    await client.readChunk() // a keep-alive comment, 30 ms later
    const text = client.chunks.map((chunk) => new TextDecoder().decode(chunk)).join('')
    expect(text).toMatch(/^retry: 1500\n\nid: [0-9a-z]{8}-2\ndata: e2\n\nid: [0-9a-z]{8}-3\ndata: e3\n\n:\n$/)
    await client.cancel()
  })

  it('answers HEAD in the Worker, and refuses the options that cannot follow a stream run by the object', async () => {
    const topics = new DurableTopics(namespace)
    const head = await topics.response(new Request('http://example.com/', { method: 'HEAD' }), newTopic())
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(head.body).toBeNull()
    const request = new Request('http://example.com/')
    await expect(topics.response(request, 'x', { onEnd: () => {} })).rejects.toThrow(
      "DurableTopics: onEnd cannot be honoured, the stream runs in the topic's Durable Object",
    )
    await expect(topics.response(request, 'x', { retry: -1 })).rejects.toThrow(TypeError)
    await expect(topics.response(request, 'x', { last: 101 })).rejects.toThrow(TypeError)
    expect(() => new DurableTopics(undefined as never)).toThrow(TypeError)
    expect(() => new DurableTopics(namespace, { history: 0 })).toThrow(TypeError)
  })

  it('deletes the storage of a topic nobody reads once what it held has expired, not before', async () => {
    const topics = new DurableTopics(namespace, { historyMs: 50, idempotencyMs: 50 })
    const name = newTopic()
    const client = await positioned(await subscribe(topics, name))
    const before = Date.now()
    const first = await topics.publish(name, { data: 'e1' }, { idempotencyKey: 'k' })
    // Due when the event and its key have expired (rounded up to the minute), not sooner.
    const due = await runInDurableObject(stub(name), (_: TopicObject, state) => state.storage.getAlarm())
    expect(due).toBeGreaterThan(before + 50)
    expect(due).toBeLessThanOrEqual(Date.now() + 50 + 60_000)
    // Read by a client: the alarm leaves it.
    expect(await runDurableObjectAlarm(stub(name))).toBe(true)
    expect((await stored(name)).meta?.last).toBe(1)
    await client.cancel()
    while ((await objectCounts(namespace, name)).subscribers !== 0) await scheduler.wait(5)
    // Its last client left: the alarm is set again, and deletes everything.
    expect(await runDurableObjectAlarm(stub(name))).toBe(true)
    expect(await stored(name)).toEqual({ meta: undefined, events: [], keys: [] })
    // The topic starts again: a new epoch, numbered from 1.
    const next = await topics.publish(name, { data: 'again' })
    expect(next).toMatch(/^[0-9a-z]{8}-1$/)
    expect(next.split('-')[0]).not.toBe(first.split('-')[0])
  })

  it('deletes from storage what the topic forgets: events past its age, keys past their window', async () => {
    const topics = new DurableTopics(namespace, { historyMs: 40, idempotencyMs: 40 })
    const name = newTopic()
    await topics.publish(name, { data: 'old' }, { idempotencyKey: 'old' })
    expect(await stored(name)).toMatchObject({ events: [1], keys: ['old'] })
    await scheduler.wait(50)
    await topics.publish(name, { data: 'new' }, { idempotencyKey: 'new' })
    expect(await stored(name)).toMatchObject({ meta: { last: 2 }, events: [2], keys: ['new'] })
  })
})
