/**
 * The demo's /topics/:name routes in process: publish and subscribe, and
 * every bad request answered with a status that says what was wrong, with
 * nothing of it reaching a subscriber.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/lib/app.ts'
import { TopicUnavailableError } from '../../src/lib/topic-unavailable.ts'
import { Topics } from '../../src/lib/topics.ts'
import type { TopicStore } from '../../src/lib/types.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const TOKEN = 'test-token-0123456789'
const auth = { Authorization: `Bearer ${TOKEN}` }
const readers: EventStreamReader[] = []
afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.cancel()))
})

function demo(options: { publishToken?: string; topics?: TopicStore } = { publishToken: TOKEN }) {
  return createApp({ ...options, settings: { topicHistory: 10 }, onStreamEnd() {} })
}

/** A subscriber of `name` that has read its opening (comment, then the position frame). */
async function subscriber(app: ReturnType<typeof demo>, name = 'room', headers: Record<string, string> = {}) {
  const res = await app.request(`/topics/${name}`, { headers })
  expect(res.status).toBe(200)
  const reader = new EventStreamReader(res.body as ReadableStream<Uint8Array>, headers['Last-Event-ID'])
  readers.push(reader)
  await reader.readChunk()
  return reader
}

const post = async (app: ReturnType<typeof demo>, body: BodyInit, headers: Record<string, string>, name = 'room') =>
  app.request(`/topics/${name}`, { method: 'POST', body, headers })

describe('GET /topics/:name', () => {
  it('answers with the SSE headers, the retry field and the position frame', async () => {
    const res = await demo().request('/topics/room')
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = new EventStreamReader(res.body as ReadableStream<Uint8Array>)
    readers.push(reader)
    await reader.readChunk()
    await reader.readChunk()
    const text = reader.chunks.map((chunk) => new TextDecoder().decode(chunk)).join('')
    expect(text).toMatch(/^retry: 3000\n\nid: [0-9a-z]{8}-0\n\n$/)
  })

  it('replays the last K held events with ?last=K, at most the history', async () => {
    const app = demo()
    for (let n = 1; n <= 12; n++) await post(app, `e${n}`, { ...auth, 'Content-Type': 'text/plain' })
    const client = await subscriber(app, 'room?last=3')
    expect((await client.take(3)).map((event) => event.data)).toEqual(['e10', 'e11', 'e12'])
    for (const bad of ['11', '-1', '1.5', 'x', '']) {
      const res = await app.request(`/topics/room?last=${bad}`)
      expect([res.status, await res.text()]).toEqual([400, 'last must be an integer from 0 to 10\n'])
    }
  })

  it.each(['a.b', 'x'.repeat(65), '%F0%9F%98%80', 'a%20b'])('refuses the topic name %s with the rule', async (name) => {
    const res = await demo().request(`/topics/${name}`)
    expect([res.status, await res.text()]).toEqual([400, 'a topic name is 1 to 64 letters, digits, "-" or "_"\n'])
  })
})

describe('POST /topics/:name', () => {
  it('publishes a text/plain body as the data, and answers 201 with the id', async () => {
    const app = demo()
    const client = await subscriber(app)
    const res = await post(app, 'hello\nworld', { ...auth, 'Content-Type': 'text/plain; charset=utf-8' })
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    expect(id).toMatch(/^[0-9a-z]{8}-1$/)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'hello\nworld', lastEventId: id }])
  })

  it('publishes a JSON body { event, data } as a named event', async () => {
    const app = demo()
    const client = await subscriber(app)
    const res = await post(app, JSON.stringify({ event: 'chat', data: '{"text":"hi"}' }), {
      ...auth,
      'Content-Type': 'application/json',
    })
    const { id } = (await res.json()) as { id: string }
    expect(await client.take(1)).toEqual([{ type: 'chat', data: '{"text":"hi"}', lastEventId: id }])
  })

  it('answers a retried Idempotency-Key with the first id and publishes once', async () => {
    const app = demo()
    const client = await subscriber(app)
    const headers = { ...auth, 'Content-Type': 'text/plain', 'Idempotency-Key': 'retry-1' }
    const first = await (await post(app, 'once', headers)).json()
    const again = await post(app, 'once', headers)
    expect([again.status, await again.json()]).toEqual([201, first])
    await post(app, 'next', { ...auth, 'Content-Type': 'text/plain' })
    expect((await client.take(2)).map((event) => event.data)).toEqual(['once', 'next'])
  })

  const cases: [string, () => Promise<Response>, number, string][] = [
    ['no token', () => post(demo(), 'x', { 'Content-Type': 'text/plain' }), 401, 'publishing needs'],
    [
      'a wrong token',
      () => post(demo(), 'x', { Authorization: 'Bearer nope', 'Content-Type': 'text/plain' }),
      401,
      'publishing needs',
    ],
    [
      'another scheme',
      () => post(demo(), 'x', { Authorization: `Basic ${TOKEN}`, 'Content-Type': 'text/plain' }),
      401,
      'publishing needs',
    ],
    [
      'a server without a token',
      () => post(demo({}), 'x', { ...auth, 'Content-Type': 'text/plain' }),
      403,
      'publishing is off',
    ],
    [
      'a body over 64 KiB',
      () => post(demo(), 'x'.repeat(65_537), { ...auth, 'Content-Type': 'text/plain' }),
      413,
      'at most 65536 bytes',
    ],
    [
      'bad JSON',
      () => post(demo(), '{"data":', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'the body is not JSON',
    ],
    [
      'a JSON array',
      () => post(demo(), '["x"]', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'must be an object',
    ],
    [
      'JSON without data',
      () => post(demo(), '{"event":"x"}', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'SSE field "data" must be a string',
    ],
    [
      'a CR in the event type',
      () => post(demo(), '{"event":"a\\rb","data":"x"}', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'must not contain CR or LF',
    ],
    [
      'an id of its own',
      () => post(demo(), '{"id":"1","data":"x"}', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'the topic sets the id',
    ],
    [
      'the gap type',
      () => post(demo(), '{"event":"gap","data":"x"}', { ...auth, 'Content-Type': 'application/json' }),
      400,
      'reports a gap',
    ],
    [
      'a body that is not UTF-8',
      () => post(demo(), new Uint8Array([0xff, 0xfe]), { ...auth, 'Content-Type': 'text/plain' }),
      400,
      'not UTF-8',
    ],
    [
      'another content type',
      () => post(demo(), 'x', { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' }),
      415,
      'the body must be text/plain',
    ],
    [
      'a bad topic name',
      () => post(demo(), 'x', { ...auth, 'Content-Type': 'text/plain' }, 'a.b'),
      400,
      'a topic name is',
    ],
  ]

  it.each(cases)('refuses %s with %i and a reason', async (_, request, status, reason) => {
    const res = await request()
    expect(res.status).toBe(status)
    expect(await res.text()).toContain(reason)
  })

  it('says how to authenticate on 401', async () => {
    const res = await post(demo(), 'x', { 'Content-Type': 'text/plain' })
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="publish"')
  })

  it('lets no refused publish reach a subscriber or take an id', async () => {
    const app = demo()
    const client = await subscriber(app)
    for (const [, request] of cases) await request()
    // The cases above used their own apps; now the same refusals on this one.
    await post(app, 'x', { 'Content-Type': 'text/plain' })
    await post(app, '{"event":"a\\nb","data":"x"}', { ...auth, 'Content-Type': 'application/json' })
    await post(app, 'x'.repeat(65_537), { ...auth, 'Content-Type': 'text/plain' })
    const ok = (await (await post(app, 'ok', { ...auth, 'Content-Type': 'text/plain' })).json()) as { id: string }
    expect(ok.id).toMatch(/-1$/)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'ok', lastEventId: ok.id }])
  })

  it('answers 503 with Retry-After when the store cannot be reached', async () => {
    const down: TopicStore = {
      publish: () => Promise.reject(new TopicUnavailableError('redis is unreachable: connect ECONNREFUSED')),
      response: (request, name, options) => new Topics().response(request, name, options),
    }
    const res = await post(demo({ publishToken: TOKEN, topics: down }), 'x', { ...auth, 'Content-Type': 'text/plain' })
    expect([res.status, res.headers.get('retry-after'), await res.text()]).toEqual([
      503,
      '1',
      'redis is unreachable: connect ECONNREFUSED\n',
    ])
  })
})

describe('other methods', () => {
  it('answers the CORS preflight with what a publisher may send', async () => {
    const res = await demo().request('/topics/room', { method: 'OPTIONS' })
    expect(res.status).toBe(204)
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS')
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization')
    expect(res.headers.get('access-control-allow-headers')).toContain('Idempotency-Key')
  })

  it.each(['PUT', 'DELETE', 'PATCH'])('answers %s with 405 and Allow', async (method) => {
    const res = await demo().request('/topics/room', { method })
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST, OPTIONS'])
  })

  it('refuses a publish token that is too short at createApp', () => {
    expect(() => createApp({ publishToken: 'short' })).toThrow(
      'publishToken must be 16 to 256 printable ASCII characters without spaces',
    )
  })
})
