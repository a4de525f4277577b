/**
 * A user's own source through the event stream: pull-based reading, stopping
 * the source when the stream stops, and every bad thing a source can do.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ServerSentEvent } from '../../src/lib/encoder.ts'
import { createEventStream } from '../../src/lib/event-stream.ts'
import { StreamRegistry } from '../../src/lib/registry.ts'
import { pendingTimers } from '../../src/lib/timers.ts'
import type { CreateEventStreamOptions, SourceContext, StreamEnd, StreamSource } from '../../src/lib/types.ts'

const decoder = new TextDecoder()
const tick = (n: number): ServerSentEvent => ({ event: 'tick', id: String(n), data: JSON.stringify({ n }) })
const tickText = (n: number) => `event: tick\nid: ${n}\ndata: {"n":${n}}\n\n`

const readers: ReadableStreamDefaultReader<Uint8Array>[] = []

function open(source: StreamSource, options: CreateEventStreamOptions = {}) {
  const ends: StreamEnd[] = []
  const reader = createEventStream(source, { onEnd: (end) => ends.push(end), ...options }).getReader()
  readers.push(reader)
  return { reader, ends }
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text
    text += decoder.decode(value)
  }
}

/** An async source whose calls are counted and whose events are handed out by the test. */
function controlled() {
  const calls = { next: 0, return: 0 }
  const waiting: ((result: IteratorResult<ServerSentEvent>) => void)[] = []
  let signal: AbortSignal | undefined
  const source = (context: SourceContext): AsyncIterableIterator<ServerSentEvent> => {
    signal = context.signal
    return {
      [Symbol.asyncIterator]() {
        return this
      },
      next() {
        calls.next++
        return new Promise((resolve) => waiting.push(resolve))
      },
      async return() {
        calls.return++
        return { done: true, value: undefined }
      },
    }
  }
  const give = (n: number) => waiting.shift()?.({ done: false, value: tick(n) })
  return { source, calls, give, signal: () => signal as AbortSignal }
}

afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
  vi.useRealTimers()
  expect(pendingTimers()).toBe(0)
})

describe('a source of the user', () => {
  it('streams a sync iterable, then closes', async () => {
    const { reader, ends } = open([tick(1), tick(2)], { retry: 1000 })
    expect(await readAll(reader)).toBe(`retry: 1000\n\n${tickText(1)}${tickText(2)}`)
    expect(ends).toEqual([{ reason: 'complete', events: 2 }])
  })

  it('streams an async generator of named JSON events, opening with a comment when there is no retry', async () => {
    const { reader, ends } = open(async function* () {
      yield tick(1)
      yield tick(2)
    })
    expect(await readAll(reader)).toBe(`:\n${tickText(1)}${tickText(2)}`)
    expect(ends).toEqual([{ reason: 'complete', events: 2 }])
  })

  it('gives the function the client id, or undefined when there is none', async () => {
    const seen: (string | undefined)[] = []
    const source = ({ lastEventId }: SourceContext) => {
      seen.push(lastEventId)
      return []
    }
    await readAll(open(source, { lastEventId: '42' }).reader)
    await readAll(open(source).reader)
    expect(seen).toEqual(['42', undefined])
  })
})

describe('backpressure', () => {
  it('calls next() only when the reader pulls: a stalled reader causes at most one more', async () => {
    const { source, calls, give } = controlled()
    const { reader } = open(source)
    await reader.read() // the opening comment: no event asked for yet
    expect(calls.next).toBe(0)
    const first = reader.read()
    expect(calls.next).toBe(1)
    give(1)
    expect(decoder.decode((await first).value)).toBe(tickText(1))
    // The reader stalls: nothing asks for more, however long it waits.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls.next).toBe(1)
  })

  it('reads a sync iterable one event per pull, never ahead', async () => {
    let produced = 0
    function* endless() {
      for (;;) {
        produced++
        yield tick(produced)
      }
    }
    const { reader } = open(endless())
    await reader.read()
    await reader.read()
    await reader.read()
    expect(produced).toBe(2)
  })
})

describe('when the stream stops before the source is done', () => {
  it('aborts the signal and calls return() at once when the reader cancels', async () => {
    const { source, calls, signal } = controlled()
    const { reader, ends } = open(source)
    await reader.read()
    void reader.read() // next() pending
    await reader.cancel()
    expect(signal().aborted).toBe(true)
    expect(calls.return).toBe(1)
    expect(ends).toEqual([{ reason: 'cancelled', events: 0 }])
  })

  it('runs a generator finally at once when the request signal aborts, without any timer firing', async () => {
    // workerd may never fire a timer of a request whose client has gone: the abort alone must do it.
    vi.useFakeTimers()
    const cleanedUp: string[] = []
    const client = new AbortController()
    const { reader, ends } = open(
      async function* ({ signal }) {
        try {
          yield tick(1)
          // A wait that only a timer or the signal can end.
          await new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, 60_000)
            signal.addEventListener('abort', () => {
              clearTimeout(timer)
              reject(signal.reason)
            })
          })
          yield tick(2)
        } finally {
          cleanedUp.push('finally')
        }
      },
      { signal: client.signal },
    )
    await reader.read()
    await reader.read() // event 1
    void reader.read() // the generator now waits inside its await
    await Promise.resolve()
    client.abort()
    // Microtasks only: the clock never moves.
    for (let i = 0; i < 5; i++) await Promise.resolve()
    expect(cleanedUp).toEqual(['finally'])
    expect(ends).toEqual([{ reason: 'cancelled', events: 1 }])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('runs a generator finally that is suspended at a yield, synchronously on cancel', async () => {
    const cleanedUp: string[] = []
    const { reader } = open(function* () {
      try {
        yield tick(1)
        yield tick(2)
      } finally {
        cleanedUp.push('finally')
      }
    })
    await reader.read()
    await reader.read() // event 1: the generator is suspended at its yield
    await reader.cancel()
    expect(cleanedUp).toEqual(['finally'])
  })

  it('closes a source once, whatever arrives: cancel, the request signal, shutdown', async () => {
    const { source, calls } = controlled()
    const client = new AbortController()
    const streams = new StreamRegistry()
    const { reader, ends } = open(source, { signal: client.signal, streams })
    await reader.read()
    void reader.read()
    streams.shutdown()
    client.abort()
    await reader.cancel()
    expect(calls.return).toBe(1)
    expect(ends).toEqual([{ reason: 'shutdown', events: 0 }])
  })

  it('makes the signal only when asked, and hands out an aborted one after the stream stopped', async () => {
    let context: SourceContext | undefined
    const { reader } = open((c) => {
      context = c
      return (async function* () {
        yield tick(1)
        yield tick(2)
      })()
    })
    await reader.read()
    await reader.cancel()
    expect(context?.signal.aborted).toBe(true)
  })

  it('leaves the signal alone when the source finishes by itself', async () => {
    let signal: AbortSignal | undefined
    const { reader } = open(({ signal: s }) => {
      signal = s
      return [tick(1)]
    })
    await readAll(reader)
    expect(signal?.aborted).toBe(false)
  })
})

describe('a source that misbehaves ends its stream cleanly at an event boundary', () => {
  it('stops a throwing source after its last whole event, never showing the error', async () => {
    const { reader, ends } = open(async function* () {
      yield tick(1)
      throw new Error('upstream said: secret token abc')
    })
    const text = await readAll(reader)
    expect(text).toBe(`:\n${tickText(1)}`)
    expect(text).not.toContain('secret')
    expect(ends).toEqual([{ reason: 'error', events: 1, error: 'Error: upstream said: secret token abc' }])
  })

  it('stops a sync iterator whose next() throws', async () => {
    const { reader, ends } = open({
      [Symbol.iterator]: () => ({
        next: () => {
          throw new Error('cursor closed')
        },
      }),
    })
    expect(await readAll(reader)).toBe(':\n')
    expect(ends).toEqual([{ reason: 'error', events: 0, error: 'Error: cursor closed' }])
  })

  it.each([
    [
      'an id with a line break (a field injection)',
      { id: '1\ndata: injected' },
      'SSE field "id" must not contain CR, LF or U+0000',
    ],
    ['an id with CR', { id: '1\r' }, 'SSE field "id" must not contain CR, LF or U+0000'],
    ['an id with NUL', { id: '1\0' }, 'SSE field "id" must not contain CR, LF or U+0000'],
    ['an event type with LF', { event: 'a\nb', data: 'x' }, 'SSE field "event" must not contain CR or LF'],
    ['a negative retry', { retry: -1 }, 'SSE field "retry" must be a non-negative integer, got -1'],
    ['a number as data', { data: 5 }, 'SSE field "data" must be a string, got number'],
    ['null', null, 'SSE event must be an object, got null'],
    ['a string', 'hello', 'SSE event must be an object, got string'],
  ])('refuses %s: nothing of it is written, and the source is returned', async (_, bad, message) => {
    const cleanedUp: string[] = []
    const { reader, ends } = open(function* () {
      try {
        yield tick(1)
        yield bad as ServerSentEvent
        yield tick(3)
      } finally {
        cleanedUp.push('finally')
      }
    })
    expect(await readAll(reader)).toBe(`:\n${tickText(1)}`)
    expect(ends).toEqual([{ reason: 'error', events: 1, error: `TypeError: ${message}` }])
    expect(cleanedUp).toEqual(['finally'])
  })

  it('reports an async function that returns a Promise instead of an async iterable', async () => {
    const { reader, ends } = open((async () => [tick(1)]) as unknown as StreamSource)
    expect(await readAll(reader)).toBe(':\n')
    expect(ends).toEqual([
      {
        reason: 'error',
        events: 0,
        error: 'TypeError: the event source returned a Promise, not an iterable: write `async function*`',
      },
    ])
  })

  it('reports a source function that throws', async () => {
    const { reader, ends } = open(() => {
      throw new Error('no such feed')
    })
    expect(await readAll(reader)).toBe(':\n')
    expect(ends).toEqual([{ reason: 'error', events: 0, error: 'Error: no such feed' }])
  })

  it('reports an iterator whose next() returns no result object', async () => {
    const { reader, ends } = open({ [Symbol.asyncIterator]: () => ({ next: async () => undefined }) } as never)
    expect(await readAll(reader)).toBe(':\n')
    expect(ends).toEqual([
      { reason: 'error', events: 0, error: 'TypeError: iterator.next() must return an object, got undefined' },
    ])
  })
})

describe('a callback of the user that throws', () => {
  it('is logged, and the stream still ends cleanly', async () => {
    const logged: unknown[] = []
    const error = console.error
    console.error = (...args: unknown[]) => logged.push(args)
    try {
      const client = new AbortController()
      const { source } = controlled()
      const reader = createEventStream(source, {
        signal: client.signal,
        onEnd: () => {
          throw new Error('metrics down')
        },
      }).getReader()
      readers.push(reader)
      await reader.read()
      const pending = reader.read()
      client.abort() // onEnd runs inside the abort listener
      expect(await pending).toEqual({ done: true, value: undefined })
      expect(logged).toEqual([['edge-sse: onEnd threw', new Error('metrics down')]])
    } finally {
      console.error = error
    }
  })

  it('reports a sync iterator whose next() returns null', async () => {
    const { reader, ends } = open({ [Symbol.iterator]: () => ({ next: () => null }) } as never)
    expect(await readAll(reader)).toBe(':\n')
    expect(ends).toEqual([
      { reason: 'error', events: 0, error: 'TypeError: iterator.next() must return an object, got null' },
    ])
  })
})

describe('bad options are refused at once', () => {
  it.each([
    ['a negative retry', { retry: -5 }, 'SSE field "retry" must be a non-negative integer, got -5'],
    ['a fractional keepAliveMs', { keepAliveMs: 1.5 }, 'keepAliveMs must be an integer from 0 to 2147483647, got 1.5'],
    [
      'a keepAliveMs past setTimeout',
      { keepAliveMs: 2 ** 31 },
      'keepAliveMs must be an integer from 0 to 2147483647, got 2147483648',
    ],
  ])('%s', (_, options, message) => {
    expect(() => createEventStream([], options)).toThrow(new TypeError(message))
  })

  it.each([
    ['a number', 5],
    ['a plain object', {}],
    ['a string', 'data: hi'],
  ])('a source that is %s', (_, source) => {
    expect(() => createEventStream(source as never)).toThrow(TypeError)
  })
})

describe('keep-alive', () => {
  it('sends a comment each quiet period while the source is slow, and none while it keeps up', async () => {
    vi.useFakeTimers({ now: 0 })
    const { source, give } = controlled()
    const { reader } = open(source, { keepAliveMs: 300 })
    await reader.read()
    const chunks: string[] = []
    const readOne = async () => {
      const read = reader.read()
      let value: string | undefined
      read.then((r) => {
        value = decoder.decode(r.value)
      })
      await vi.advanceTimersByTimeAsync(0)
      while (value === undefined) await vi.advanceTimersToNextTimerAsync()
      chunks.push(`${Date.now()} ${value}`)
    }
    await readOne() // 300: quiet
    await readOne() // 600: quiet
    setTimeout(() => give(1), 100) // the source answers at 700
    await readOne()
    await readOne() // 1000: quiet again, 300 after the event
    expect(chunks).toEqual(['300 :\n', '600 :\n', `700 ${tickText(1)}`, '1000 :\n'])
  })

  it('piles no comments on a reader that stopped reading', async () => {
    vi.useFakeTimers({ now: 0 })
    const { source } = controlled()
    const { reader } = open(source, { keepAliveMs: 100 })
    await reader.read()
    const first = reader.read() // asks for one event, which never comes
    await vi.advanceTimersByTimeAsync(1000) // ten quiet periods, nobody reading after the first
    expect(decoder.decode((await first).value)).toBe(':\n')
    // One more comment waits in the queue, not nine.
    expect(decoder.decode((await reader.read()).value)).toBe(':\n')
    let settled = false
    reader.read().then(() => {
      settled = true
    })
    for (let i = 0; i < 5; i++) await Promise.resolve()
    expect(settled).toBe(false)
  })
})
