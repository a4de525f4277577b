import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defaultSettings } from '../../src/settings.ts'
import { createEventStream, type EventStreamOptions, type OpenStream, type StreamEnd } from '../../src/stream.ts'

const decoder = new TextDecoder()
const settings = { ...defaultSettings, intervalMs: 1000 }
const frame = (n: number) => `id: ${n}\ndata: Message ${n}\n\n`

function open(options: Partial<EventStreamOptions> = {}) {
  const ends: StreamEnd[] = []
  const stream = createEventStream({ ...settings, onEnd: (end) => ends.push(end), ...options })
  return { reader: stream.getReader(), ends }
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
afterEach(() => {
  vi.useRealTimers()
})

describe('createEventStream', () => {
  it('sends the retry field first, then frames 1 to 5, then closes', async () => {
    const { reader, ends } = open()
    const texts = []
    for (let i = 0; i < 7; i++) texts.push((await next(reader)).text)
    expect(texts).toEqual(['retry: 3000\n\n', frame(1), frame(2), frame(3), frame(4), frame(5), null])
    expect(ends).toEqual([{ reason: 'complete', frames: 5 }])
    expect(vi.getTimerCount()).toBe(0)
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
    const stream = createEventStream(settings)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(vi.getTimerCount()).toBe(0)
    const reader = stream.getReader()
    expect((await next(reader)).text).toBe('retry: 3000\n\n')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('holds one frame at most for a reader that stalls', async () => {
    const { reader } = open()
    await next(reader)
    expect((await next(reader)).text).toBe(frame(1))
    expect(vi.getTimerCount()).toBe(0)
    // The reader stalls for several intervals: no pull, so no timer and no frame.
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      expect(vi.getTimerCount()).toBe(0)
    }
    expect((await next(reader)).text).toBe(frame(2))
  })

  it('clears its timer at once on cancel and enqueues nothing after', async () => {
    const { reader, ends } = open()
    await next(reader)
    await next(reader)
    const pending = reader.read()
    expect(vi.getTimerCount()).toBe(1)
    await reader.cancel()
    expect(vi.getTimerCount()).toBe(0)
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(ends).toEqual([{ reason: 'cancelled', frames: 1 }])
  })

  it('stops when the request signal aborts, even if cancel() never comes', async () => {
    const client = new AbortController()
    const { reader, ends } = open({ signal: client.signal })
    await next(reader)
    const pending = reader.read()
    expect(vi.getTimerCount()).toBe(1)
    client.abort()
    expect(vi.getTimerCount()).toBe(0)
    expect(await pending).toEqual({ done: true, value: undefined })
    await reader.cancel()
    expect(ends).toEqual([{ reason: 'cancelled', frames: 0 }])
  })

  it('does not start for a request that is already aborted', async () => {
    const { reader, ends } = open({ signal: AbortSignal.abort() })
    expect((await next(reader)).text).toBeNull()
    expect(ends).toEqual([{ reason: 'cancelled', frames: 0 }])
  })

  it('closes between two frames on shutdown, and leaves the open set', async () => {
    const openStreams = new Set<OpenStream>()
    const { reader, ends } = open({ openStreams })
    expect(openStreams.size).toBe(1)
    await next(reader)
    await next(reader)
    const pending = reader.read()
    for (const stream of openStreams) stream.shutdown()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(vi.getTimerCount()).toBe(0)
    expect(ends).toEqual([{ reason: 'shutdown', frames: 1 }])
    expect(openStreams.size).toBe(0)
  })

  it('resumes after lastEventId, timed from the new stream', async () => {
    const { reader, ends } = open({ lastEventId: 3 })
    await next(reader)
    expect(await next(reader)).toEqual({ text: frame(4), at: 1000 })
    expect(await next(reader)).toEqual({ text: frame(5), at: 2000 })
    expect((await next(reader)).text).toBeNull()
    expect(ends).toEqual([{ reason: 'complete', frames: 2 }])
  })

  it('sends a keep-alive comment each period of a long wait', async () => {
    const { reader } = open({ intervalMs: 1000, keepAliveMs: 300 })
    await next(reader)
    const chunks = []
    for (let i = 0; i < 4; i++) chunks.push(await next(reader))
    expect(chunks).toEqual([
      { text: ':\n', at: 300 },
      { text: ':\n', at: 600 },
      { text: ':\n', at: 900 },
      { text: frame(1), at: 1000 },
    ])
  })

  it('ends cleanly, without the error text, when message() throws', async () => {
    const { reader, ends } = open({
      message: (id) => {
        if (id === 2) throw new Error('database down')
        return `Message ${id}`
      },
    })
    const texts = []
    for (let i = 0; i < 3; i++) texts.push((await next(reader)).text)
    expect(texts).toEqual(['retry: 3000\n\n', frame(1), null])
    expect(ends).toEqual([{ reason: 'error', frames: 1, error: 'Error: database down' }])
    expect(vi.getTimerCount()).toBe(0)
  })
})
