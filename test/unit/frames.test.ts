/**
 * The demo's frames through the event stream, on fake timers: exact bytes, the
 * schedule, backpressure, and every way a stream ends.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEventStream } from '../../src/lib/event-stream.ts'
import { frames } from '../../src/lib/frames.ts'
import { StreamRegistry } from '../../src/lib/registry.ts'
import { defaultSettings } from '../../src/lib/settings.ts'
import { pendingTimers } from '../../src/lib/timers.ts'
import type { CreateEventStreamOptions, StreamEnd } from '../../src/lib/types.ts'

const decoder = new TextDecoder()
const frame = (n: number) => `id: ${n}\ndata: Message ${n}\n\n`

// Every reader a test opens, cancelled after it: what is left then is a leak.
const readers: ReadableStreamDefaultReader<Uint8Array>[] = []

function open(options: CreateEventStreamOptions = {}, message?: (id: number) => string) {
  const ends: StreamEnd[] = []
  const stream = createEventStream(frames(defaultSettings, message), {
    retry: 3000,
    onEnd: (end) => ends.push(end),
    ...options,
  })
  const reader = stream.getReader()
  readers.push(reader)
  return { reader, ends }
}

/** Reads one chunk, advancing fake time until it arrives; returns its text and the time it came. */
async function next(reader: ReadableStreamDefaultReader<Uint8Array>) {
  const read = reader.read()
  let result: ReadableStreamReadResult<Uint8Array> | undefined
  read.then((r) => {
    result = r
  })
  // Settle what is already due before moving the clock, so a chunk that is
  // ready now is not mistaken for one that needed time.
  await vi.advanceTimersByTimeAsync(0)
  while (!result) await vi.advanceTimersToNextTimerAsync()
  return { text: result.done ? null : decoder.decode(result.value), at: Date.now() }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
  expect(pendingTimers()).toBe(0)
  vi.useRealTimers()
})

describe('the demo frames', () => {
  it('sends the retry field first, then frames 1 to 5, then closes', async () => {
    const { reader, ends } = open()
    const texts = []
    for (let i = 0; i < 7; i++) texts.push((await next(reader)).text)
    expect(texts).toEqual(['retry: 3000\n\n', frame(1), frame(2), frame(3), frame(4), frame(5), null])
    expect(ends).toEqual([{ reason: 'complete', events: 5 }])
    expect(vi.getTimerCount()).toBe(0)
    expect(pendingTimers()).toBe(0)
  })

  it('sends frame k at start + k × interval', async () => {
    const { reader } = open()
    expect((await next(reader)).at).toBe(0)
    const times = []
    for (let i = 0; i < 5; i++) times.push((await next(reader)).at)
    expect(times).toEqual([1000, 2000, 3000, 4000, 5000])
  })

  it('does not let a late read push later frames back', async () => {
    const { reader } = open()
    await next(reader)
    await next(reader) // frame 1 at 1000
    await vi.advanceTimersByTimeAsync(1500) // the consumer reads again at 2500
    const late = await next(reader)
    expect(late).toEqual({ text: frame(2), at: 2500 })
    expect(await next(reader)).toEqual({ text: frame(3), at: 3000 })
  })

  it('produces nothing and arms no timer before the consumer pulls', async () => {
    const { reader } = open()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(vi.getTimerCount()).toBe(0)
    expect((await next(reader)).text).toBe('retry: 3000\n\n')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('holds one frame at most for a reader that stalls, and runs no timer for it once a keep-alive period is over', async () => {
    const { reader } = open()
    await next(reader)
    expect((await next(reader)).text).toBe(frame(1))
    // No read, so no next(): no frame timer. The keep-alive timer armed for
    // the last wait fires once, finds nobody waiting, and is not armed again.
    await vi.advanceTimersByTimeAsync(defaultSettings.keepAliveMs + 1000)
    expect(vi.getTimerCount()).toBe(0)
    expect(pendingTimers()).toBe(0)
    // Frames 2 and 3 are overdue: each comes at once, one per read.
    const now = Date.now()
    expect(await next(reader)).toEqual({ text: frame(2), at: now })
    expect(await next(reader)).toEqual({ text: frame(3), at: now })
  })

  it('clears its timers at once on cancel and enqueues nothing after', async () => {
    const { reader, ends } = open()
    await next(reader)
    await next(reader)
    const pending = reader.read()
    expect(pendingTimers()).toBeGreaterThan(0)
    await reader.cancel()
    expect(vi.getTimerCount()).toBe(0)
    expect(pendingTimers()).toBe(0)
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(ends).toEqual([{ reason: 'cancelled', events: 1 }])
  })

  it('stops when the request signal aborts, even if cancel() never comes', async () => {
    const client = new AbortController()
    const { reader, ends } = open({ signal: client.signal })
    await next(reader)
    const pending = reader.read()
    expect(pendingTimers()).toBeGreaterThan(0)
    client.abort()
    expect(vi.getTimerCount()).toBe(0)
    expect(await pending).toEqual({ done: true, value: undefined })
    await reader.cancel()
    expect(ends).toEqual([{ reason: 'cancelled', events: 0 }])
  })

  it('does not start for a request that is already aborted', async () => {
    const { reader, ends } = open({ signal: AbortSignal.abort() })
    expect((await next(reader)).text).toBeNull()
    expect(ends).toEqual([{ reason: 'cancelled', events: 0 }])
  })

  it('closes between two frames on shutdown, and leaves the registry', async () => {
    const streams = new StreamRegistry()
    const { reader, ends } = open({ streams })
    expect(streams.size).toBe(1)
    await next(reader)
    await next(reader)
    const pending = reader.read()
    streams.shutdown()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(vi.getTimerCount()).toBe(0)
    expect(ends).toEqual([{ reason: 'shutdown', events: 1 }])
    expect(streams.size).toBe(0)
  })

  it('resumes after lastEventId, timed from the new stream', async () => {
    const { reader, ends } = open({ lastEventId: '3' })
    await next(reader)
    expect(await next(reader)).toEqual({ text: frame(4), at: 1000 })
    expect(await next(reader)).toEqual({ text: frame(5), at: 2000 })
    expect((await next(reader)).text).toBeNull()
    expect(ends).toEqual([{ reason: 'complete', events: 2 }])
  })

  it.each([
    ['negative', '-1'],
    ['exponent', '1e3'],
    ['fraction', '2.5'],
    ['hex', '0x3'],
    ['16 digits', '9'.repeat(16)],
    ['10,000 digits', '9'.repeat(10_000)],
    ['Arabic-Indic digits', '٣'],
    ['fullwidth digits', '３'],
    ['two values joined by a repeated header', '3, 4'],
    ['words', 'abc'],
  ])('restarts at 1 for an id we never issued (%s)', async (_, id) => {
    const { reader } = open({ lastEventId: id })
    await next(reader)
    expect((await next(reader)).text).toBe(frame(1))
  })

  it('is over, with nothing to send, once the client has the last frame', () => {
    const source = frames(defaultSettings)
    const signal = new AbortController().signal
    expect(source({ lastEventId: '5', signal })).toBeNull()
    expect(source({ lastEventId: '99', signal })).toBeNull()
    expect(source({ lastEventId: '4', signal })).not.toBeNull()
  })

  it('sends a keep-alive comment each period of a long wait', async () => {
    const { reader } = open({ keepAliveMs: 300 })
    await next(reader)
    const chunks = []
    for (let i = 0; i < 7; i++) chunks.push(await next(reader))
    expect(chunks).toEqual([
      { text: ':\n', at: 300 },
      { text: ':\n', at: 600 },
      { text: ':\n', at: 900 },
      { text: frame(1), at: 1000 },
      { text: ':\n', at: 1300 },
      { text: ':\n', at: 1600 },
      { text: ':\n', at: 1900 },
    ])
  })

  it('ends cleanly, without the error text, when message() throws', async () => {
    const { reader, ends } = open({}, (id) => {
      if (id === 2) throw new Error('database down')
      return `Message ${id}`
    })
    const texts = []
    for (let i = 0; i < 3; i++) texts.push((await next(reader)).text)
    expect(texts).toEqual(['retry: 3000\n\n', frame(1), null])
    expect(ends).toEqual([{ reason: 'error', events: 1, error: 'Error: database down' }])
    expect(vi.getTimerCount()).toBe(0)
  })
})
