/**
 * RedisTopics against a real redis-server, several stores in one test
 * standing for several processes: what a publish writes, idempotency across
 * processes, refused events and an unreachable Redis, resume from every
 * position (XRANGE for what a process no longer holds), the gaps, the
 * hand-off while events are published, one reading connection per process,
 * a reading connection that drops, and Redis restarting with and without its
 * data.
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeEvent } from '../../src/lib/encoder.ts'
import { RedisTopics, type RedisTopicsOptions } from '../../src/lib/redis.ts'
import { TopicUnavailableError } from '../../src/lib/topic-unavailable.ts'
import { clientNames, type RedisServer, startRedis } from '../support/redis-server.ts'
import { EventStreamReader, type ReceivedEvent } from '../support/sse-client.ts'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.remove())

const readers: EventStreamReader[] = []
const stores: { topics: RedisTopics; client: Redis }[] = []
afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
  for (const { topics, client } of stores.splice(0)) {
    topics.close()
    client.disconnect()
  }
})

let clients = 0
/** A store on its own client, as one process has it (history 5 unless told). */
async function store(options: Partial<RedisTopicsOptions> = {}, name = `process-${++clients}`) {
  const client = new Redis(redis.url, { connectionName: name })
  client.on('error', () => {})
  const topics = new RedisTopics({ redis: client, history: 5, ...options })
  stores.push({ topics, client })
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
  return topics
}

let topicCount = 0
/** A topic name no other test uses. */
const topic = () => `topic-${++topicCount}`
const key = (name: string) => `edge-sse:topic:${name}`

/** A client of `name` on `topics`, as a browser connects: with its Last-Event-ID if it has one. */
function subscribe(topics: RedisTopics, name: string, lastEventId?: string, last?: number) {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }
  const response = topics.response(new Request('http://test/', { headers }), name, { keepAliveMs: 0, last })
  const reader = new EventStreamReader(response.body as ReadableStream<Uint8Array>, lastEventId)
  readers.push(reader)
  return reader
}

/** A client that has read its opening and the position frame: it gets every event published from now on. */
async function liveClient(topics: RedisTopics, name: string) {
  const reader = subscribe(topics, name)
  await reader.readChunk() // the opening comment
  await reader.readChunk() // the position frame, once the topic is read here
  return reader
}

/** Publishes `e<from>` … `e<to>` one after the other; resolves to their ids. */
async function publishMany(topics: RedisTopics, name: string, from: number, to: number): Promise<string[]> {
  const ids: string[] = []
  for (let n = from; n <= to; n++) ids.push(await topics.publish(name, { data: `e${n}` }))
  return ids
}

/** The client a store publishes and reads history with. */
const clientOf = (topics: RedisTopics) => stores.find((made) => made.topics === topics)?.client as Redis

/** The events `client` gets up to the one whose data is `data`. */
async function readUntil(client: EventStreamReader, data: string): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = []
  while (events.at(-1)?.data !== data) events.push(...(await client.take(1)))
  return events
}

const datas = (events: ReceivedEvent[]) => events.map((event) => event.data)
const gapOf = (event: ReceivedEvent | undefined) => ({ ...JSON.parse(event?.data ?? ''), id: event?.lastEventId })

describe('publish', () => {
  it('writes one entry per event: its id is the event’s, it names the id before it, the stream expires', async () => {
    const topics = await store({ historyMs: 60_000 })
    const name = topic()
    const first = await topics.publish(name, { data: 'one' })
    const second = await topics.publish(name, { event: 'chat', data: 'two' })
    expect(await redis.admin.xrange(key(name), '-', '+')).toEqual([
      [first, ['p', '0-0', 'd', 'one']],
      [second, ['p', first, 'd', 'two', 'e', 'chat']],
    ])
    const ttl = await redis.admin.pttl(key(name))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('keeps about `history` entries in Redis, and without historyMs no expiry', async () => {
    const topics = await store({ history: 5, historyMs: 0 })
    const name = topic()
    await publishMany(topics, name, 1, 250)
    // MAXLEN ~ trims whole nodes of 100 entries: at least 5, fewer than 105.
    const length = await redis.admin.xlen(key(name))
    expect(length).toBeGreaterThanOrEqual(5)
    expect(length).toBeLessThan(105)
    expect(await redis.admin.pttl(key(name))).toBe(-1)
  })

  it.each([
    ['data that is not a string', { data: 1 }, 'SSE field "data" must be a string, got number'],
    ['an event type with a line break', { event: 'a\nb', data: 'x' }, 'SSE field "event" must not contain CR or LF'],
    ['the gap type', { event: 'gap', data: 'x' }, 'the event type "gap" is the topic\'s own'],
    ['an id of its own', { id: '1-1', data: 'x' }, 'a topic event has only "event" and "data"'],
  ])('refuses %s with a TypeError, and nothing reaches Redis', async (_, event, message) => {
    const topics = await store()
    const name = topic()
    await expect(topics.publish(name, event as never)).rejects.toThrow(TypeError)
    await expect(topics.publish(name, event as never)).rejects.toThrow(message)
    expect(await redis.admin.exists(key(name))).toBe(0)
  })

  it('refuses a bad topic name or idempotency key with a TypeError', async () => {
    const topics = await store()
    await expect(topics.publish('', { data: 'x' })).rejects.toThrow(TypeError)
    await expect(topics.publish('a', { data: 'x' }, { idempotencyKey: '' })).rejects.toThrow(TypeError)
    expect(await redis.admin.exists(key('a'))).toBe(0)
  })

  it('applies a retried publish once, with the same id, from another process, within idempotencyMs', async () => {
    const [one, other] = [await store({ idempotencyMs: 60_000 }), await store({ idempotencyMs: 60_000 })]
    const name = topic()
    const id = await one.publish(name, { data: 'first try' }, { idempotencyKey: 'order-42' })
    expect(await other.publish(name, { data: 'retry' }, { idempotencyKey: 'order-42' })).toBe(id)
    expect(await redis.admin.xlen(key(name))).toBe(1)
    // Keys belong to their topic (its stream gets the event: comparing ids would not tell, as two streams'
    // ids are equal when both are written in the same millisecond), and expire with the window.
    const second = topic()
    await other.publish(second, { data: 'x' }, { idempotencyKey: 'order-42' })
    expect(await redis.admin.xlen(key(second))).toBe(1)
    const ttl = await redis.admin.pttl(`edge-sse:idempotency:${name.length}:${name}:order-42`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
    expect(await other.publish(name, { data: 'another' }, { idempotencyKey: 'order-43' })).not.toBe(id)
    expect(await redis.admin.xlen(key(name))).toBe(2)
  })

  it('rejects at once with a TopicUnavailableError while its client is not connected', async () => {
    const client = new Redis({ port: 1, lazyConnect: true })
    const topics = new RedisTopics({ redis: client })
    const error = await topics.publish('a', { data: 'x' }).catch((failure: unknown) => failure)
    expect(error).toBeInstanceOf(TopicUnavailableError)
    expect((error as Error).message).toBe('Redis is not connected (client status: wait)')
    client.disconnect()
  })

  it('rejects with a TopicUnavailableError when Redis does not answer within timeoutMs', async () => {
    const topics = await store({ timeoutMs: 200 })
    await redis.admin.client('PAUSE', 1000, 'WRITE')
    try {
      await expect(topics.publish(topic(), { data: 'x' })).rejects.toThrow(
        new TopicUnavailableError('Redis did not answer the publish within 200 ms'),
      )
    } finally {
      await redis.admin.client('UNPAUSE')
    }
  })

  it('refuses a client with a keyPrefix, and options out of range', async () => {
    const client = new Redis({ lazyConnect: true, keyPrefix: 'app:' })
    expect(() => new RedisTopics({ redis: client })).toThrow('the client must have no keyPrefix')
    expect(() => new RedisTopics({ redis: {} as Redis })).toThrow('redis must be an ioredis client')
    const plain = new Redis({ lazyConnect: true })
    expect(() => new RedisTopics({ redis: plain, history: 0 })).toThrow('history must be an integer from 1')
    expect(() => new RedisTopics({ redis: plain, timeoutMs: 0 })).toThrow('timeoutMs must be an integer from 1')
    client.disconnect()
    plain.disconnect()
  })
})

describe('subscribe', () => {
  it('sends every event published by any process, its bytes as the encoder writes them', async () => {
    const [here, elsewhere] = [await store(), await store()]
    const name = topic()
    const client = await liveClient(here, name)
    const before = client.chunks.length
    const chat = await elsewhere.publish(name, { event: 'chat', data: 'line 1\nline 2' })
    const plain = await here.publish(name, { data: 'x' })
    expect(await client.take(2)).toEqual([
      { type: 'chat', data: 'line 1\nline 2', lastEventId: chat },
      { type: 'message', data: 'x', lastEventId: plain },
    ])
    const bytes = client.chunks.slice(before).map((chunk) => new TextDecoder().decode(chunk))
    expect(bytes).toEqual([
      encodeEvent({ event: 'chat', id: chat, data: 'line 1\nline 2' }),
      encodeEvent({ id: plain, data: 'x' }),
    ])
  })

  it('sends a new client the position frame with the latest id, or the last K events with ?last', async () => {
    const topics = await store()
    const name = topic()
    const ids = await publishMany(topics, name, 1, 3)
    const client = await liveClient(topics, name)
    expect(client.lastEventId).toBe(ids[2])
    expect(datas(await subscribe(topics, name, undefined, 2).take(2))).toEqual(['e2', 'e3'])
    const empty = await liveClient(topics, topic())
    expect(empty.lastEventId).toBe('0-0')
  })

  // Eight events; this process holds the last five (e4 … e8), Redis all eight.
  it('resumes from every position: from Redis what this process no longer holds, then what it holds, then live', async () => {
    const [publisher, here] = [await store(), await store()]
    const name = topic()
    const ids = await publishMany(publisher, name, 1, 8)
    await liveClient(here, name) // the topic is read here from now on
    const starts = ['0-0', ...ids]
    const resumed = starts.map((id) => subscribe(here, name, id))
    for (const [index, client] of resumed.entries()) {
      const expected = Array.from({ length: 8 - index }, (_, i) => `e${index + i + 1}`)
      expect(datas(await client.take(expected.length)), `from ${starts[index]}`).toEqual(expected)
    }
    const next = await publisher.publish(name, { data: 'e9' })
    for (const client of resumed)
      expect(await client.take(1)).toEqual([{ type: 'message', data: 'e9', lastEventId: next }])
  })

  it('sends a gap event for an id it cannot resume from: malformed, unknown, expired', async () => {
    const topics = await store({ history: 5 })
    const name = topic()
    const ids = await publishMany(topics, name, 1, 250) // Redis trimmed e1 … e200; held here: e246 … e250
    await liveClient(topics, name)
    const [oldest, latest] = [ids[245], ids[249]]
    const cases: [string, string][] = [
      ['abc', 'malformed'],
      ['1-2-3', 'malformed'],
      ['1-1x', 'malformed'],
      ['99999999999999-0', 'unknown'], // newer than the latest
      [`${ids[247]?.split('-')[0]}-99`, 'unknown'], // between two held events
      [ids[0] as string, 'expired'], // trimmed from Redis
      // In Redis still, but a client more than twice the history behind is not fetched for.
      [ids[200] as string, 'expired'],
    ]
    for (const [lastEventId, reason] of cases) {
      const [gap] = await subscribe(topics, name, lastEventId).take(1)
      expect(gap?.type, lastEventId).toBe('gap')
      expect(gapOf(gap), lastEventId).toEqual({ reason, oldest, latest, id: latest })
    }
    // Three events before what is held here: from Redis, then the five held.
    const expected = Array.from({ length: 8 }, (_, i) => `e${243 + i}`)
    expect(datas(await subscribe(topics, name, ids[241]).take(8))).toEqual(expected)
  })

  it('hands a resuming client over from history to live events without loss or repeat while events come', async () => {
    const [publisher, here] = [await store({ history: 50 }), await store({ history: 50 })]
    const name = topic()
    const ids = await publishMany(publisher, name, 1, 60) // held here: e11 … e60
    await liveClient(here, name)
    const resumes: Promise<void>[] = []
    for (let n = 61; n <= 100; n++) {
      // From anywhere so far, older than what is held here too, while e61 … e100 are published.
      const from = ((n - 61) * 13) % ids.length
      const client = subscribe(here, name, ids[from])
      const expected = Array.from({ length: 100 - from - 1 }, (_, i) => `e${from + i + 2}`)
      resumes.push(
        readUntil(client, 'e100').then((events) => expect(datas(events), `from e${from + 1}`).toEqual(expected)),
      )
      ids.push(await publisher.publish(name, { data: `e${n}` }))
    }
    await Promise.all(resumes)
  })

  it('starts clients that arrive while the topic is read for the first time like the others', async () => {
    const topics = await store()
    const name = topic()
    const ids = await publishMany(topics, name, 1, 2)
    const clients = [subscribe(topics, name), subscribe(topics, name, undefined, 1), subscribe(topics, name)]
    expect([topics.size, topics.subscribers]).toEqual([1, 3])
    for (const client of [clients[0], clients[2]] as EventStreamReader[]) {
      await client.readChunk()
      await client.readChunk()
      expect(client.lastEventId).toBe(ids[1])
    }
    expect(datas(await (clients[1] as EventStreamReader).take(1))).toEqual(['e2'])
    const id = await topics.publish(name, { data: 'e3' })
    for (const client of clients)
      expect(await client.take(1)).toEqual([{ type: 'message', data: 'e3', lastEventId: id }])
  })

  it('reads every topic of the process on one connection: 100 clients on 20 topics, two connections', async () => {
    const topics = await store({}, 'one-process')
    const names = Array.from({ length: 20 }, topic)
    const clients = await Promise.all(
      names.flatMap((name) => Array.from({ length: 5 }, () => liveClient(topics, name))),
    )
    const publisher = await store()
    const ids = await Promise.all(names.map((name) => publisher.publish(name, { data: name })))
    for (const [index, client] of clients.entries()) {
      const at = Math.floor(index / 5)
      expect(await client.take(1)).toEqual([{ type: 'message', data: names[at], lastEventId: ids[at] }])
    }
    // Counted once every client has an event: the reading connection is there.
    expect((await clientNames(redis.admin)).filter((name) => name.startsWith('one-process')).sort()).toEqual([
      'one-process',
      'one-process:reader',
    ])
    expect([topics.size, topics.subscribers]).toEqual([20, 100])
  })

  it('reads a topic as soon as its first client comes, even while the reader is blocked on others', async () => {
    const [publisher, here] = [await store(), await store()]
    const [quiet, busy] = [topic(), topic()]
    const first = await liveClient(here, quiet)
    await publisher.publish(quiet, { data: 'read' })
    expect(datas(await first.take(1))).toEqual(['read'])
    // The reader is blocked on the quiet topic (for 5 s at a time) when the second one comes.
    const client = await liveClient(here, busy)
    const started = performance.now()
    const id = await publisher.publish(busy, { data: 'now' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'now', lastEventId: id }])
    // Interrupted (CLIENT UNBLOCK), not read when the block timed out.
    expect(performance.now() - started).toBeLessThan(2500)
  })

  it('stops reading a topic here when its last client here leaves', async () => {
    const topics = await store()
    const [one, two] = [await liveClient(topics, topic()), await liveClient(topics, topic())]
    expect(topics.size).toBe(2)
    await one.cancel()
    expect([topics.size, topics.subscribers]).toEqual([1, 1])
    await two.cancel()
    expect([topics.size, topics.subscribers]).toEqual([0, 0])
  })

  it('delivers events published while its reading connection was down once, in order', async () => {
    const [publisher, here] = [await store(), await store({}, 'dropped')]
    const name = topic()
    const client = await liveClient(here, name)
    // Once it has read an event, the reading connection is there.
    await publisher.publish(name, { data: 'e0' })
    expect(datas(await client.take(1))).toEqual(['e0'])
    const reader = String(await redis.admin.client('LIST'))
      .split('\n')
      .find((line: string) => line.includes(' name=dropped:reader '))
    const readerId = /^id=(\d+)/.exec(reader ?? '')?.[1] as string
    await redis.admin.client('KILL', 'ID', readerId)
    const ids = await publishMany(publisher, name, 1, 5)
    expect(await client.take(5)).toEqual(ids.map((id, i) => ({ type: 'message', data: `e${i + 1}`, lastEventId: id })))
  })

  it('sends the next event of a topic that expired from Redis (idle for historyMs) without a gap', async () => {
    const topics = await store({ historyMs: 60_000 })
    const name = topic()
    const client = await liveClient(topics, name)
    await topics.publish(name, { data: 'before' })
    expect(datas(await client.take(1))).toEqual(['before'])
    await redis.admin.del(key(name)) // what its expiry does after a minute without events
    const id = await topics.publish(name, { data: 'after' })
    expect((await redis.admin.xrange(key(name), '-', '+'))[0]).toEqual([id, ['p', '0-0', 'd', 'after']])
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'after', lastEventId: id }])
  })
})

describe('Redis restarts under open streams', () => {
  /** Resolves once `client` is connected (again). */
  const connected = (client: Redis) =>
    client.status === 'ready' ? Promise.resolve() : new Promise((resolve) => client.once('ready', resolve))
  /** Resolves once `client` has seen its connection close. */
  const disconnected = (client: Redis) =>
    client.status !== 'ready' ? Promise.resolve() : new Promise((resolve) => client.once('close', resolve))

  it('with its data: nothing lost or repeated; without: a reset gap, then live events', async () => {
    const [publisher, here] = [await store(), await store()]
    const publishClient = clientOf(publisher)
    const name = topic()
    const client = await liveClient(here, name)
    const [first] = await publishMany(publisher, name, 1, 1)
    expect(datas(await client.take(1))).toEqual(['e1'])

    await redis.stop()
    await Promise.all([disconnected(publishClient), disconnected(clientOf(here))])
    // While Redis is away: a topic held here is still served from memory, one that is not is unavailable.
    expect(await subscribe(here, name, '0-0').take(1)).toEqual([{ type: 'message', data: 'e1', lastEventId: first }])
    expect(() => here.response(new Request('http://test/'), topic())).toThrow(TopicUnavailableError)
    const refused = publisher.publish(name, { data: 'lost' })
    await expect(refused).rejects.toThrow(TopicUnavailableError)
    await expect(refused).rejects.toThrow(/^Redis is not connected/)
    await redis.start({ keepData: true })
    await connected(publishClient)
    const second = await publisher.publish(name, { data: 'e2' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'e2', lastEventId: second }])
    expect((await redis.admin.xrange(key(name), '-', '+')).map(([id]) => id)).toEqual([first, second])

    await redis.stop()
    await redis.start({ keepData: false })
    await connected(publishClient)
    const third = await publisher.publish(name, { data: 'e3' })
    const [gap] = await client.take(1)
    expect(gap?.type).toBe('gap')
    expect(gapOf(gap)).toEqual({ reason: 'reset', oldest: third, latest: third, id: third })
    const fourth = await publisher.publish(name, { data: 'e4' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'e4', lastEventId: fourth }])
  })
})
