/**
 * A Redis topic's local history without Redis: stream ids and their order,
 * the chain of previous ids that tells a complete read from one with a hole
 * (trimmed before it was read, lost by Redis, a new stream), resume from
 * every position with a fetch standing in for XRANGE, a trim during that
 * fetch, and the iterator that waits for a topic's first read.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Cursor } from '../../src/lib/cursor.ts'
import { createEventStream } from '../../src/lib/event-stream.ts'
import { PendingIterator } from '../../src/lib/pending-iterator.ts'
import {
  compareIds,
  isChain,
  isStreamId,
  type RawEntry,
  readEntry,
  type StreamEntry,
  unbrokenTail,
} from '../../src/lib/redis-entries.ts'
import { type FetchRange, RedisMirror } from '../../src/lib/redis-mirror.ts'
import { EventStreamReader, type ReceivedEvent } from '../support/sse-client.ts'

const readers: EventStreamReader[] = []
afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
})

/** Entry `id` after `prev`, whose data is its id. */
const entry = (id: string, prev: string): RawEntry => [id, ['p', prev, 'd', `data ${id}`]]

/** Entries `from-0` … `to-0` (ids by millisecond), each after the one before. */
function chain(from: number, to: number, before = `${from - 1}-0`): RawEntry[] {
  const entries: RawEntry[] = []
  for (let ms = from, prev = before; ms <= to; prev = `${ms}-0`, ms++) entries.push(entry(`${ms}-0`, prev))
  return entries
}

const neverFetch: FetchRange = Object.assign(() => Promise.reject(new Error('not expected to fetch')), { count: 10 })

/** A mirror holding `from-0` … `to-0` (history 5 by default), started in reader session 1. */
function mirror(from: number, to: number, history = 5): RedisMirror {
  const made = new RedisMirror('edge-sse:topic:t', { history, historyMs: 0 }, () => {})
  made.start(`${to}-0`, chain(from, to).reverse(), 1)
  return made
}

/** A client of `made` as the event stream serves it, resuming from `lastEventId`. */
function subscribe(made: RedisMirror, lastEventId?: string, fetch = neverFetch, last = 0) {
  const started = made.subscribe(lastEventId, last, fetch)
  const iterator = started instanceof Cursor ? started : new PendingIterator(started)
  const stream = createEventStream(iterator, { keepAliveMs: 0 })
  const client = new EventStreamReader(stream, lastEventId)
  readers.push(client)
  return client
}

const summary = (event: ReceivedEvent) =>
  event.type === 'gap' ? `gap ${JSON.parse(event.data).reason} ${event.lastEventId}` : event.lastEventId

describe('stream ids', () => {
  it('accepts ids as Redis writes them, and nothing else', () => {
    for (const id of ['0-0', '1-0', '1718000000000-12', '18446744073709551615-18446744073709551615']) {
      expect(isStreamId(id), id).toBe(true)
    }
    for (const id of ['', '1', '1-', '-1', '01-1', '1-01', '1-2-3', 'a-1', ' 1-1', '1-1\n', `${'1'.repeat(21)}-0`]) {
      expect(isStreamId(id), id).toBe(false)
    }
  })

  it('orders ids by milliseconds, then sequence, past 2^53', () => {
    const sorted = [
      '0-0',
      '0-1',
      '9-5',
      '10-0',
      '10-2',
      '9007199254740993-0',
      '9007199254740993-1',
      '18446744073709551615-0',
    ]
    const shuffled = [...sorted].reverse()
    expect(shuffled.sort(compareIds)).toEqual(sorted)
    expect(compareIds('5-5', '5-5')).toBe(0)
  })

  it('reads an entry’s type, data and previous id, in any field order', () => {
    expect(readEntry(['7-1', ['d', 'x', 'e', 'chat', 'p', '7-0']])).toEqual({
      event: { event: 'chat', id: '7-1', data: 'x' },
      prev: '7-0',
      at: 7,
    })
    expect(readEntry(['8-0', ['p', '7-1', 'd', '']]).event).toEqual({ id: '8-0', data: '' })
  })

  it('knows a complete run of entries from one with a hole', () => {
    const entries = chain(3, 6).map(readEntry)
    expect(isChain(entries, '2-0', '6-0')).toBe(true)
    expect(isChain(entries, '1-0', '6-0')).toBe(false) // 2-0 is missing before them
    expect(isChain(entries, '2-0', '7-0')).toBe(false) // 7-0 is missing after them
    expect(isChain([], '6-0', '6-0')).toBe(true)
    const holed = [...chain(1, 3), entry('5-0', '4-0'), entry('6-0', '5-0')].map(readEntry)
    expect(unbrokenTail(holed).map((item: StreamEntry) => item.event.id)).toEqual(['5-0', '6-0'])
    expect(unbrokenTail(entries)).toBe(entries)
  })
})

describe('what the reader feeds it', () => {
  it('appends entries that follow the latest, and skips any it holds already', async () => {
    const made = mirror(1, 3)
    const client = subscribe(made)
    made.apply([...chain(2, 3), ...chain(4, 5, '3-0')], 1)
    expect((await client.take(2)).map(summary)).toEqual(['4-0', '5-0'])
  })

  it.each([
    ['trimmed before it was read: behind', chain(8, 9, '7-0'), 1, ['gap behind 9-0']],
    ['a new stream after a reconnection: reset (Redis lost its data)', chain(8, 9, '0-0'), 2, ['gap reset 9-0']],
    [
      'older than the latest after a reconnection: reset (an older copy of Redis)',
      chain(8, 9, '2-0'),
      2,
      ['gap reset 9-0'],
    ],
    ['a new stream followed without interruption: nothing lost', chain(8, 9, '0-0'), 1, ['8-0', '9-0']],
    ['the next entry after a reconnection: nothing lost', chain(6, 7), 2, ['6-0', '7-0']],
  ])('an entry %s', async (_, entries, session, expected) => {
    const made = mirror(1, 5)
    const client = subscribe(made, '3-0')
    expect((await client.take(2)).map(summary)).toEqual(['4-0', '5-0'])
    made.apply(entries, session)
    expect((await client.take(expected.length)).map(summary)).toEqual(expected)
  })

  it('after Redis lost its data, a client that comes back with an id from before gets a gap too', async () => {
    const made = mirror(1, 5)
    made.apply(chain(8, 9, '0-0'), 2)
    const client = subscribe(made, '4-0')
    expect((await client.take(1)).map(summary)).toEqual(['gap unknown 9-0'])
  })

  it('starts a topic that has no stream yet at 0-0, and one whose entries were all trimmed at its last id', async () => {
    const empty = new RedisMirror('k', { history: 5, historyMs: 0 }, () => {})
    empty.start('0-0', [], undefined)
    expect([empty.topic?.beforeId, empty.topic?.latestId]).toEqual(['0-0', '0-0'])
    const trimmed = new RedisMirror('k', { history: 5, historyMs: 0 }, () => {})
    trimmed.start('42-3', [], 1)
    expect(trimmed.topic?.latestId).toBe('42-3')
    const client = subscribe(trimmed)
    trimmed.apply(chain(43, 43, '42-3'), 1)
    expect((await client.take(1)).map(summary)).toEqual(['43-0'])
  })

  it('holds only the unbroken end of a snapshot (an entry deleted in the middle)', () => {
    const made = new RedisMirror('k', { history: 5, historyMs: 0 }, () => {})
    made.start('6-0', [entry('6-0', '5-0'), entry('5-0', '4-0'), entry('3-0', '2-0')], 1)
    expect([made.topic?.beforeId, made.topic?.oldestId]).toEqual(['4-0', '5-0'])
  })
})

describe('resume', () => {
  /**
   * A fetch from a Redis that holds `from-0` … `to-0` (as XRANGE with a
   * count: the entries after an id, at most `count`), which runs `during`
   * before it answers.
   */
  const redisHolding = (from: number, to: number, during: () => void = () => {}, count = 10) => {
    const calls: string[] = []
    const fetch = async (after: string) => {
      calls.push(after)
      during()
      return chain(from, to)
        .map(readEntry)
        .filter((item) => compareIds(item.event.id as string, after) > 0)
        .slice(0, count)
    }
    return Object.assign(fetch, { count, calls })
  }

  // Held: 6-0 … 10-0 (before them, 5-0); Redis has 1-0 … 10-0.
  it.each([
    ['the latest', '10-0', []],
    ['a held id', '7-0', ['8-0', '9-0', '10-0']],
    ['the id before the oldest held', '5-0', ['6-0', '7-0', '8-0', '9-0', '10-0']],
    ['an id only Redis has', '3-0', ['4-0', '5-0', '6-0', '7-0', '8-0', '9-0', '10-0']],
    ['the start of the stream', '0-0', ['1-0', '2-0', '3-0', '4-0', '5-0', '6-0', '7-0', '8-0', '9-0', '10-0']],
  ])('from %s: every event after it, then live ones', async (_, from, expected) => {
    const made = mirror(6, 10)
    const fetch = redisHolding(1, 10)
    const client = subscribe(made, from, fetch)
    expect((await client.take(expected.length)).map(summary)).toEqual(expected)
    made.apply(chain(11, 11), 1)
    expect((await client.take(1)).map(summary)).toEqual(['11-0'])
    // Only what this process no longer holds is fetched.
    expect(fetch.calls).toEqual(compareIds(from, '5-0') < 0 ? [from] : [])
  })

  it.each([
    ['malformed', 'abc', redisHolding(1, 10)],
    ['malformed', '7-0 ', redisHolding(1, 10)],
    ['malformed', '07-0', redisHolding(1, 10)],
    ['unknown', '11-0', redisHolding(1, 10)], // newer than the latest
    ['unknown', '7-1', redisHolding(1, 10)], // between two held events
    ['unknown', '0-5', redisHolding(1, 10)], // before the stream's first entry, which follows 0-0
    ['expired', '2-0', redisHolding(4, 10)], // 3-0 trimmed from Redis
    ['expired', '1-0', redisHolding(1, 10, () => {}, 3)], // further back than one fetch brings
  ])('a gap %s for %s, then live events', async (reason, from, fetch) => {
    const made = mirror(6, 10)
    const client = subscribe(made, from, fetch)
    const [gap] = await client.take(1)
    expect(JSON.parse((gap as ReceivedEvent).data)).toEqual({ reason, oldest: '6-0', latest: '10-0' })
    expect(gap?.lastEventId).toBe('10-0')
    made.apply(chain(11, 11), 1)
    expect((await client.take(1)).map(summary)).toEqual(['11-0'])
  })

  it('an id before the history while events come: from Redis up to the latest held, then on, never a hole', async () => {
    const made = mirror(6, 10)
    // During the fetch, Redis and this process get 11-0 … 16-0, which evicts all that was held.
    const client = subscribe(
      made,
      '3-0',
      redisHolding(1, 16, () => made.apply(chain(11, 16), 1)),
    )
    expect((await client.take(13)).map(summary)).toEqual(Array.from({ length: 13 }, (_, i) => `${i + 4}-0`))
    made.apply(chain(17, 17), 1)
    expect((await client.take(1)).map(summary)).toEqual(['17-0'])
  })

  it('events Redis has that this process has not read yet: they come from its history, once', async () => {
    const made = mirror(6, 10)
    const client = subscribe(made, '3-0', redisHolding(1, 12))
    expect((await client.take(7)).map(summary)).toEqual(['4-0', '5-0', '6-0', '7-0', '8-0', '9-0', '10-0'])
    made.apply(chain(11, 13), 1)
    expect((await client.take(3)).map(summary)).toEqual(['11-0', '12-0', '13-0'])
  })

  it('a history that moved past everything fetched meanwhile: the events fetched are not sent, a gap is', async () => {
    const made = mirror(6, 10)
    // Redis answered with 4-0 … 10-0, but 11-0 … 20-0 came here before the answer.
    const client = subscribe(
      made,
      '3-0',
      redisHolding(1, 10, () => made.apply(chain(11, 20), 1)),
    )
    expect((await client.take(1)).map(summary)).toEqual(['gap behind 20-0'])
  })

  it('a topic whose last client leaves during a fetch is held until the fetch is in', async () => {
    let idle = 0
    const made = new RedisMirror('k', { history: 5, historyMs: 0 }, () => idle++)
    made.start('10-0', chain(6, 10).reverse(), 1)
    const started = made.subscribe('3-0', 0, redisHolding(1, 10))
    expect(made.topic?.subscribers).toBe(1)
    const iterator = (await started) as AsyncIterator<unknown>
    expect([made.topic?.subscribers, idle]).toEqual([1, 0])
    await iterator.return?.()
    expect([made.topic?.subscribers, idle]).toEqual([0, 1])
  })

  it('without an id: the position frame then live events, or the last K held', async () => {
    const made = mirror(6, 10)
    const live = subscribe(made)
    await live.readChunk() // opening comment
    await live.readChunk()
    expect(live.lastEventId).toBe('10-0')
    const lastTwo = subscribe(made, undefined, neverFetch, 2)
    made.apply(chain(11, 11), 1)
    expect((await live.take(1)).map(summary)).toEqual(['11-0'])
    expect((await lastTwo.take(3)).map(summary)).toEqual(['9-0', '10-0', '11-0'])
  })
})

describe('PendingIterator', () => {
  const event = { id: '1-0', data: 'x' }

  it('hands over to the iterator once it comes, without a promise per event after that', async () => {
    let resolve: (iterator: AsyncIterator<typeof event>) => void = () => {}
    const pending = new PendingIterator(new Promise((done) => (resolve = done)))
    const first = pending.next()
    const inner = { next: () => ({ done: false, value: event }) as unknown as Promise<IteratorResult<typeof event>> }
    resolve(inner)
    expect(await first).toEqual({ done: false, value: event })
    expect(pending.next()).toEqual({ done: false, value: event }) // a plain result, passed through
  })

  it('a client that leaves before: abandon runs at once, and the iterator is returned when it comes', async () => {
    let resolve: (iterator: AsyncIterator<typeof event>) => void = () => {}
    const calls: string[] = []
    const pending = new PendingIterator(new Promise((done) => (resolve = done)), () => calls.push('abandon'))
    const waiting = pending.next()
    await pending.return()
    expect(calls).toEqual(['abandon'])
    resolve({
      next: () => Promise.reject(new Error('not read')),
      return: async () => {
        calls.push('return')
        return { done: true, value: undefined }
      },
    })
    expect(await waiting).toEqual({ done: true, value: undefined })
    await Promise.resolve()
    expect(calls).toEqual(['abandon', 'return'])
  })

  it('a start that fails fails the next read, and is not an unhandled rejection when nobody reads', async () => {
    const failing = new PendingIterator(Promise.reject(new Error('Redis is not connected')))
    await expect(failing.next()).rejects.toThrow('Redis is not connected')
    const unread = new PendingIterator(Promise.reject(new Error('nobody hears this')))
    await unread.return()
  })
})
