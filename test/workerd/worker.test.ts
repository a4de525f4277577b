import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { eventStreamResponse } from '../../src/lib/response.ts'
import worker from '../../src/servers/worker.ts'
import { CLOCK_ROUNDING_MS, readTimed, timedBlocks } from '../support/timed-read.ts'

// What the Worker is handed at the edge; a plain Request lacks the cf fields in the types.
const IncomingRequest = Request<unknown, IncomingRequestCfProperties>

// vitest.config.ts sets SSE_INTERVAL_MS=20 for this project; the rest come from wrangler.toml.
const INTERVAL_MS = 20
const frames = [1, 2, 3, 4, 5].map((n) => `id: ${n}\ndata: Message ${n}\n\n`).join('')

describe('the Worker in workerd', () => {
  it('streams the five frames with the SSE headers', async () => {
    const res = await exports.default.fetch('http://example.com/events')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(res.headers.get('connection')).toBeNull()
    expect(await res.text()).toBe(`retry: 3000\n\n${frames}`)
  })

  it('sends frame k no sooner than k intervals after the request, and not in one burst', async () => {
    const sentAt = performance.now()
    const res = await exports.default.fetch('http://example.com/events')
    const blocks = timedBlocks(await readTimed(res, sentAt))
    expect(blocks.map((b) => b.text).join('')).toBe(`retry: 3000\n\n${frames}`)
    // Frame k is due k intervals after the stream started. Under load a frame
    // leaves late and the next catches up on the schedule, so the gaps between
    // frames have no lower bound; their times since the request do.
    for (let k = 1; k <= 5; k++) {
      expect(blocks[k]?.at).toBeGreaterThanOrEqual(k * INTERVAL_MS - CLOCK_ROUNDING_MS)
    }
    // workerd's clock moves only between events, and each frame has a timer of its own.
    expect(blocks[1]?.at).toBeLessThan(blocks[5]?.at as number)
  })

  it('resumes after Last-Event-ID and answers 204 when finished', async () => {
    const resumed = await exports.default.fetch('http://example.com/events', { headers: { 'Last-Event-ID': '3' } })
    expect(await resumed.text()).toBe('retry: 3000\n\nid: 4\ndata: Message 4\n\nid: 5\ndata: Message 5\n\n')
    const finished = await exports.default.fetch('http://example.com/events', { headers: { 'Last-Event-ID': '5' } })
    expect(finished.status).toBe(204)
    expect(await finished.text()).toBe('')
  })

  it('answers an unknown path with 404 and POST /events with 405', async () => {
    expect((await exports.default.fetch('http://example.com/nope')).status).toBe(404)
    const post = await exports.default.fetch('http://example.com/events', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
  })

  it('stops the stream when the request signal aborts', async () => {
    const client = new AbortController()
    const request = new IncomingRequest('http://example.com/events', { signal: client.signal })
    const res = await worker.fetch(request, { SSE_INTERVAL_MS: '20', TOPICS: env.TOPICS }, createExecutionContext())
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read() // retry
    await reader.read() // frame 1
    client.abort()
    expect(await reader.read()).toEqual({ done: true, value: undefined })
  })

  it('answers 500 with the reason when a var is bad', async () => {
    const request = new IncomingRequest('http://example.com/events')
    const res = await worker.fetch(request, { SSE_FRAMES: 'many' }, createExecutionContext())
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('SSE_FRAMES must be an integer from 1 to 1000000, got "many"\n')
  })

  it("runs a user generator's finally when the request signal aborts, with no timer left to fire", async () => {
    // workerd#6832: the body is never cancelled, and a timer of a request whose
    // client has gone may never fire: the abort alone must end the source.
    const client = new AbortController()
    const cleanedUp: string[] = []
    const res = eventStreamResponse(
      new IncomingRequest('http://example.com/feed', { signal: client.signal }),
      async function* ({ signal }) {
        try {
          yield { event: 'tick', id: '1', data: '{}' }
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
        } finally {
          cleanedUp.push('finally')
        }
      },
    )
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    await reader.read() // the opening comment
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('event: tick\nid: 1\ndata: {}\n\n')
    const pending = reader.read() // the generator now waits on nothing but the signal
    client.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    for (let i = 0; i < 5; i++) await Promise.resolve() // microtasks only: no clock
    expect(cleanedUp).toEqual(['finally'])
  })
})
