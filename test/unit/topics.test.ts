/**
 * Topics in one process: ids and epochs, resume from every position, the
 * hand-off from history to live, slow readers, dropping idle topics, one
 * encoding per event, refused events, and a property test over any
 * interleaving of publishes, reads and reconnects.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ServerSentEvent } from '../../src/lib/encoder.ts'
import { createEventStream } from '../../src/lib/event-stream.ts'
import { Topics } from '../../src/lib/topics.ts'
import type { SourceContext, StreamEnd } from '../../src/lib/types.ts'
import { EventStreamReader, type ReceivedEvent } from '../support/sse-client.ts'

const readers: EventStreamReader[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
})

/** A client of topic `name`, as `eventStreamResponse` would serve it (no keep-alive: no timer in these tests). */
function subscribe(
  topics: Topics,
  name: string,
  lastEventId?: string,
  last?: number,
  onEnd?: (end: StreamEnd) => void,
) {
  const stream = createEventStream(topics.subscribe(name, { last }), { lastEventId, keepAliveMs: 0, onEnd })
  const reader = new EventStreamReader(stream, lastEventId)
  readers.push(reader)
  return reader
}

const ID = /^([0-9a-z]{8})-(\d+)$/
const epochOf = (id: string) => (ID.exec(id) as RegExpExecArray)[1]
const numberOf = (id: string) => Number((ID.exec(id) as RegExpExecArray)[2])
const gapOf = (event: ReceivedEvent) => ({ type: event.type, ...JSON.parse(event.data), id: event.lastEventId })

/** Publishes `count` events `e1`, `e2`, … and returns their ids. */
function publishMany(topics: Topics, name: string, count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => topics.publish(name, { data: `e${from + i}` }))
}

describe('ids and epochs', () => {
  it('numbers a topic’s events from 1 under one epoch of eight base-36 characters', () => {
    const topics = new Topics()
    const ids = publishMany(topics, 'room', 3)
    expect(ids.map(numberOf)).toEqual([1, 2, 3])
    expect(new Set(ids.map(epochOf)).size).toBe(1)
    expect(ids[0]).toMatch(/^[0-9a-z]{8}-1$/)
  })

  it('gives each topic and each process its own epoch', () => {
    const one = new Topics()
    const other = new Topics()
    const epochs = [one.publish('a', { data: 'x' }), one.publish('b', { data: 'x' }), other.publish('a', { data: 'x' })]
    expect(new Set(epochs.map(epochOf)).size).toBe(3)
  })

  it('sends the id the topic assigned, and the event type and data the publisher set', async () => {
    const topics = new Topics()
    const client = subscribe(topics, 'room')
    await client.readChunk() // the opening comment
    const id = topics.publish('room', { event: 'chat', data: 'line 1\nline 2' })
    expect(await client.take(1)).toEqual([{ type: 'chat', data: 'line 1\nline 2', lastEventId: id }])
  })
})

describe('resume', () => {
  // Ten events published, five held: e6 … e10.
  const setUp = () => {
    const topics = new Topics({ history: 5 })
    const ids = publishMany(topics, 'room', 10)
    return { topics, ids, epoch: epochOf(ids[0] as string) }
  }
  const datas = (events: ReceivedEvent[]) => events.map((event) => event.data)

  it.each([
    ['the newest', 9, []],
    ['the middle of the history', 7, ['e9', 'e10']],
    ['the oldest held', 5, ['e7', 'e8', 'e9', 'e10']],
    ['just before the oldest held, which misses nothing', 4, ['e6', 'e7', 'e8', 'e9', 'e10']],
  ])('from %s: exactly the events after it, then live ones', async (_, index, expected) => {
    const { topics, ids } = setUp()
    const client = subscribe(topics, 'room', ids[index])
    expect(datas(await client.take(expected.length))).toEqual(expected)
    const live = topics.publish('room', { data: 'live' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
  })

  it('from the start of an empty topic (<epoch>-0): every event since', async () => {
    const topics = new Topics()
    const client = subscribe(topics, 'room')
    await client.readChunk() // the comment and the position frame
    await client.readChunk()
    expect(client.lastEventId).toMatch(/^[0-9a-z]{8}-0$/)
    const again = subscribe(topics, 'room', client.lastEventId)
    publishMany(topics, 'room', 2)
    expect(datas(await again.take(2))).toEqual(['e1', 'e2'])
  })

  it.each([
    ['just out of the history', (ids: string[]) => ids[3] as string, 'expired'],
    ['the very first', (ids: string[]) => ids[0] as string, 'expired'],
    ['another epoch (a restarted process)', () => 'abcdefgh-7', 'unknown'],
    ['one never issued yet', (ids: string[]) => `${epochOf(ids[0] as string)}-11`, 'unknown'],
    ['not an id of a topic', () => 'hello', 'malformed'],
    ['a number with a sign', (ids: string[]) => `${epochOf(ids[0] as string)}-+7`, 'malformed'],
  ])('from an id %s: the gap event first, then live events', async (_, idOf, reason) => {
    const { topics, ids } = setUp()
    const client = subscribe(topics, 'room', idOf(ids))
    const [gap] = await client.take(1)
    expect(gapOf(gap as ReceivedEvent)).toEqual({ type: 'gap', reason, oldest: ids[5], latest: ids[9], id: ids[9] })
    const live = topics.publish('room', { data: 'live' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
  })

  it('a gap on an empty topic names no oldest id', async () => {
    const topics = new Topics()
    const [gap] = await subscribe(topics, 'room', 'abcdefgh-3').take(1)
    expect(gapOf(gap as ReceivedEvent)).toMatchObject({ reason: 'unknown', oldest: null })
  })

  it('without Last-Event-ID: live events only, after a frame that sets the client’s position', async () => {
    const { topics, ids } = setUp()
    const client = subscribe(topics, 'room')
    await client.readChunk()
    await client.readChunk()
    expect(client.chunks.map((chunk) => new TextDecoder().decode(chunk))).toEqual([':\n', `id: ${ids[9]}\n\n`])
    publishMany(topics, 'room', 1, 11)
    expect(datas(await client.take(1))).toEqual(['e11'])
  })

  it('without Last-Event-ID and with last: the newest held events, at most the history', async () => {
    const { topics } = setUp()
    expect(datas(await subscribe(topics, 'room', undefined, 3).take(3))).toEqual(['e8', 'e9', 'e10'])
    expect(datas(await subscribe(topics, 'room', undefined, 5).take(5))).toEqual(['e6', 'e7', 'e8', 'e9', 'e10'])
    expect(() => topics.subscribe('room', { last: 6 })).toThrow('subscribe: last must be an integer from 0 to 5, got 6')
  })

  it('hands over from history to live with no gap and no duplicate while events are published during the catch-up', async () => {
    const topics = new Topics({ history: 100 })
    const ids = publishMany(topics, 'room', 50)
    const client = subscribe(topics, 'room', ids[9])
    const seen: ReceivedEvent[] = []
    // Read a few, publish two, read a few more: the publishes land while the client is still in the history.
    for (let round = 0; round < 10; round++) {
      seen.push(...(await client.take(5)))
      publishMany(topics, 'room', 2, 51 + round * 2)
    }
    // 40 held after e10 and 20 published during the catch-up: 60, e11 to e70, each once.
    seen.push(...(await client.take(10)))
    expect(datas(seen)).toEqual(Array.from({ length: 60 }, (_, i) => `e${i + 11}`))
  })
})

describe('slow readers', () => {
  it('a reader that falls out of the history gets one gap event, then live events; nothing is queued for it', async () => {
    const topics = new Topics({ history: 10 })
    const client = subscribe(topics, 'room')
    await client.readChunk()
    await client.readChunk() // at the head, then reads nothing while 25 events come
    const ids = publishMany(topics, 'room', 25)
    // Nothing was taken ahead of the reader (highWaterMark 0): its next pull finds its position gone.
    const [gap] = await client.take(1)
    expect(gapOf(gap as ReceivedEvent)).toEqual({
      type: 'gap',
      reason: 'behind',
      oldest: ids[15],
      latest: ids[24],
      id: ids[24],
    })
    const live = topics.publish('room', { data: 'live' })
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
  })

  it('one reader that stalls never holds back another', async () => {
    const topics = new Topics({ history: 3 })
    const stalled = subscribe(topics, 'room')
    const reading = subscribe(topics, 'room')
    await Promise.all([stalled.readChunk(), reading.readChunk(), reading.readChunk()])
    for (let n = 1; n <= 20; n++) {
      const id = topics.publish('room', { data: `e${n}` })
      expect(await reading.take(1)).toEqual([{ type: 'message', data: `e${n}`, lastEventId: id }])
    }
  })
})

describe('many topics', () => {
  it('drops a topic when its last subscriber leaves and it holds nothing', async () => {
    const topics = new Topics()
    const client = subscribe(topics, 'room')
    await client.readChunk()
    expect([topics.size, topics.subscribers]).toEqual([1, 1])
    await client.cancel()
    expect([topics.size, topics.subscribers]).toEqual([0, 0])
  })

  it('drops an idle topic once its history has expired, and a resumed client then gets a gap', async () => {
    vi.useFakeTimers()
    const topics = new Topics({ historyMs: 10_000, idempotencyMs: 10_000 })
    const [id] = publishMany(topics, 'room', 1)
    expect(topics.size).toBe(1)
    vi.advanceTimersByTime(9_000)
    expect(topics.size).toBe(1)
    vi.advanceTimersByTime(2_000)
    expect(topics.size).toBe(0)
    vi.useRealTimers()
    const [gap] = await subscribe(topics, 'room', id).take(1)
    expect(gapOf(gap as ReceivedEvent)).toMatchObject({ reason: 'unknown', oldest: null })
  })

  it('keeps no topic of 100,000 names touched once, whether published to or subscribed', async () => {
    vi.useFakeTimers()
    const topics = new Topics({ historyMs: 1000, idempotencyMs: 1000 })
    for (let i = 0; i < 50_000; i++) topics.publish(`published-${i}`, { data: 'x' })
    // Each subscribed once, as the stream would (its source function, then return() when the client leaves).
    const context: SourceContext = { lastEventId: undefined, signal: new AbortController().signal }
    for (let i = 0; i < 50_000; i++) {
      const source = topics.subscribe(`subscribed-${i}`)
      if (typeof source !== 'function') throw new TypeError('a topic source is a function of the client')
      await (source(context) as AsyncIterableIterator<ServerSentEvent>).return?.()
    }
    expect(topics.size).toBe(50_000)
    vi.advanceTimersByTime(2_000)
    expect([topics.size, topics.subscribers]).toEqual([0, 0])
  }, 30_000) // 100,000 topics made and dropped: about 2 s of CPU alone, more on a busy machine

  it('keeps a topic with subscribers however old its history', async () => {
    vi.useFakeTimers()
    const topics = new Topics({ historyMs: 1000, idempotencyMs: 1000 })
    const client = subscribe(topics, 'room')
    publishMany(topics, 'room', 1)
    vi.advanceTimersByTime(5_000)
    expect(topics.size).toBe(1)
    await client.cancel()
    expect(topics.size).toBe(0)
  })
})

describe('publishing', () => {
  it('encodes each event once: every subscriber gets the very same bytes', async () => {
    const topics = new Topics()
    const clients = [1, 2, 3].map(() => subscribe(topics, 'room'))
    for (const client of clients) await Promise.all([client.readChunk(), client.readChunk()])
    topics.publish('room', { data: 'hello' })
    for (const client of clients) await client.take(1)
    const [first, ...others] = clients.map((client) => client.chunks.at(-1))
    expect(new TextDecoder().decode(first)).toMatch(/^id: [0-9a-z]{8}-1\ndata: hello\n\n$/)
    for (const chunk of others) expect(chunk).toBe(first)
  })

  it('delivers nothing inside publish(): waiting subscribers are woken after it returns', async () => {
    const topics = new Topics()
    const client = subscribe(topics, 'room')
    await client.readChunk()
    await client.readChunk()
    const pending = client.take(1)
    let arrived = false
    pending.then(() => {
      arrived = true
    })
    topics.publish('room', { data: 'x' })
    expect(arrived).toBe(false)
    await pending
  })

  it.each([
    ['a CR in the type', { event: 'a\rdata: injected', data: 'x' }, 'SSE field "event" must not contain CR or LF'],
    ['data that is not a string', { data: 42 }, 'SSE field "data" must be a string, got number'],
    ['an id of its own', { id: '7', data: 'x' }, 'the topic sets the id'],
    ['the gap type', { event: 'gap', data: 'x' }, 'the event type "gap" is the topic\'s own'],
    ['no object', null, 'a topic event must be an object, got null'],
  ])('refuses %s with a TypeError, and no subscriber gets anything of it', async (_, event, message) => {
    const topics = new Topics()
    const client = subscribe(topics, 'room')
    await client.readChunk()
    await client.readChunk()
    expect(() => topics.publish('room', event as never)).toThrow(new RegExp(message.replace(/[()"]/g, '.')))
    const next = topics.publish('room', { data: 'after' })
    expect(numberOf(next)).toBe(1)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'after', lastEventId: next }])
  })

  it.each([
    ['an empty name', ''],
    ['a name that is not a string', 7],
    ['a name of 257 characters', 'x'.repeat(257)],
  ])('refuses %s on publish and subscribe', (_, name) => {
    const topics = new Topics()
    expect(() => topics.publish(name as string, { data: 'x' })).toThrow(TypeError)
    expect(() => topics.subscribe(name as string)).toThrow(TypeError)
  })

  it.each([
    [{ history: 0 }, 'Topics: history must be an integer from 1 to 1000000, got 0'],
    [{ historyMs: -1 }, 'Topics: historyMs must be an integer from 0 to 2147483647, got -1'],
    [{ idempotencyMs: 1.5 }, 'Topics: idempotencyMs must be an integer from 0 to 2147483647, got 1.5'],
  ])('refuses the option %o', (options, message) => {
    expect(() => new Topics(options)).toThrow(new TypeError(message))
  })

  it('applies a publish retried with the same idempotency key once, and answers with the same id', async () => {
    const topics = new Topics()
    const client = subscribe(topics, 'room', undefined)
    await client.readChunk()
    await client.readChunk()
    const first = topics.publish('room', { data: 'once' }, { idempotencyKey: 'k1' })
    expect(topics.publish('room', { data: 'once' }, { idempotencyKey: 'k1' })).toBe(first)
    const other = topics.publish('room', { data: 'two' }, { idempotencyKey: 'k2' })
    expect(await client.take(2)).toEqual([
      { type: 'message', data: 'once', lastEventId: first },
      { type: 'message', data: 'two', lastEventId: other },
    ])
    // The same key on another topic is another publish.
    expect(topics.publish('other', { data: 'x' }, { idempotencyKey: 'k1' })).not.toBe(first)
  })

  it('forgets an idempotency key after its window', () => {
    vi.useFakeTimers()
    const topics = new Topics({ idempotencyMs: 1000 })
    const first = topics.publish('room', { data: 'x' }, { idempotencyKey: 'k' })
    vi.advanceTimersByTime(1001)
    expect(topics.publish('room', { data: 'x' }, { idempotencyKey: 'k' })).not.toBe(first)
  })

  it('one subscriber that fails never reaches the publisher or the others', async () => {
    const topics = new Topics()
    const ends: StreamEnd[] = []
    const failing = subscribe(topics, 'room', undefined, 0, () => {
      throw new Error('onEnd of a failing subscriber')
    })
    const healthy = subscribe(topics, 'room', undefined, 0, (end) => ends.push(end))
    for (const client of [failing, healthy]) await Promise.all([client.readChunk(), client.readChunk()])
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    await failing.cancel() // its onEnd throws, inside the cursor's return()
    const id = topics.publish('room', { data: 'x' })
    expect(await healthy.take(1)).toEqual([{ type: 'message', data: 'x', lastEventId: id }])
    expect(error).toHaveBeenCalledWith('edge-sse: onEnd threw', expect.any(Error))
    expect(topics.subscribers).toBe(1)
  })
})

describe('any interleaving of publishes, reads and reconnects', () => {
  type Step = { kind: 'publish' } | { kind: 'read'; client: number } | { kind: 'reconnect'; client: number }
  const step = fc.oneof(
    fc.constant<Step>({ kind: 'publish' }),
    fc.record({ kind: fc.constant('read' as const), client: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('reconnect' as const), client: fc.integer({ min: 0, max: 2 }) }),
  )

  it('every client sees each id at most once and in order, and every event after its last id or a gap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), async (steps, history) => {
        const topics = new Topics({ history })
        const published: string[] = []
        // Opened as a browser would see it: the first chunk, and without an id the position frame too.
        const open = async (lastEventId?: string) => {
          const reader = subscribe(topics, 'room', lastEventId)
          await reader.readChunk()
          if (lastEventId === undefined) await reader.readChunk()
          return reader
        }
        const clients = await Promise.all(
          [0, 1, 2].map(async () => ({ reader: await open(), seen: [] as ReceivedEvent[] })),
        )
        for (const s of steps) {
          if (s.kind === 'publish') published.push(topics.publish('room', { data: String(published.length + 1) }))
          const client = clients[(s as { client: number }).client]
          if (s.kind === 'read' && client) {
            // Read only when something is due: an event after its position, or a gap.
            const ahead = published.length > 0 && client.reader.lastEventId !== published.at(-1)
            if (ahead) client.seen.push(...(await client.reader.take(1)))
          }
          if (s.kind === 'reconnect' && client) {
            const lastEventId = client.reader.lastEventId
            await client.reader.cancel()
            client.reader = await open(lastEventId)
          }
        }
        for (const { seen } of clients) {
          let position = -1
          for (const event of seen) {
            const index = published.indexOf(event.lastEventId)
            expect(index).toBeGreaterThan(position) // once, in order, never before its position
            // An event right after the last one, or a gap that says so.
            if (event.type !== 'gap') expect(index).toBe(position + 1)
            position = index
          }
        }
        for (const { reader } of clients) await reader.cancel()
        expect(topics.subscribers).toBe(0)
      }),
      { numRuns: 200 },
    )
  })
})
