/**
 * Topics on Workers over real HTTP: `wrangler dev` serving the demo, whose
 * `/topics/:name` live in Durable Objects (TopicObject, the TOPICS binding).
 * Clients of one topic share its events, a reconnect gets what it missed, a
 * client that leaves is released in the object, and a restart of `wrangler
 * dev` with its state kept (`--persist-to`) keeps each topic's history and
 * epoch, so that clients resume across it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from '../support/servers.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const TOKEN = 'a-token-for-publishing-in-tests'
const env = { SSE_DEBUG: '1', SSE_PUBLISH_TOKEN: TOKEN, SSE_KEEPALIVE_MS: '200', SSE_TOPIC_HISTORY: '5' }

let state: string
let server: RunningServer
beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'edge-sse-topics-'))
  server = await startServer('workerd', env, undefined, state)
})
afterAll(async () => {
  await server?.stop()
  rmSync(state, { recursive: true, force: true })
})

let topicCount = 0
const newTopic = () => `topic-${++topicCount}`

async function publish(name: string, data: string): Promise<string> {
  const res = await fetch(new URL(`topics/${name}`, server.url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/plain' },
    body: data,
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}

/** A client of topic `name`, reading as EventSource does; with `lastEventId` it resumes. */
async function subscribe(name: string, lastEventId?: string, signal?: AbortSignal): Promise<EventStreamReader> {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }
  const res = await fetch(new URL(`topics/${name}`, server.url), { headers, signal })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
  return new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
}

/** Reads until the client has its position in the topic, so that it misses nothing published next. */
async function positioned(client: EventStreamReader): Promise<EventStreamReader> {
  while (client.lastEventId === '') await client.readChunk()
  return client
}

async function debugStreams(): Promise<Record<string, number>> {
  return (await fetch(new URL('debug/streams', server.url))).json() as Promise<Record<string, number>>
}

const message = (data: string, lastEventId: string) => ({ type: 'message', data, lastEventId })

describe('topics in Durable Objects, over HTTP from wrangler dev', () => {
  it('gives three clients of one topic the same published events, in order', async () => {
    const name = newTopic()
    const clients = await Promise.all([1, 2, 3].map(async () => positioned(await subscribe(name))))
    const ids = [await publish(name, 'one'), await publish(name, 'two'), await publish(name, 'three')]
    const expected = [message('one', ids[0] as string), message('two', ids[1] as string)]
    expected.push(message('three', ids[2] as string))
    for (const client of clients) expect(await client.take(3)).toEqual(expected)
    await Promise.all(clients.map((client) => client.cancel()))
  })

  it('gives a client that reconnects with Last-Event-ID exactly the events it missed', async () => {
    const name = newTopic()
    const first = await positioned(await subscribe(name))
    const seen = await publish(name, 'seen')
    expect(await first.take(1)).toEqual([message('seen', seen)])
    await first.cancel()
    const missed = [await publish(name, 'missed 1'), await publish(name, 'missed 2')]
    const again = await subscribe(name, first.lastEventId)
    expect(await again.take(2)).toEqual([
      message('missed 1', missed[0] as string),
      message('missed 2', missed[1] as string),
    ])
    const live = await publish(name, 'live')
    expect(await again.take(1)).toEqual([message('live', live)])
    await again.cancel()
  })

  it('releases a client that leaves: its cursor, its stream and its timer in the object, back to 0', async () => {
    // The object learns it at its next write after the Worker's: keep-alives every 200 ms here.
    const released = async () => {
      let counts = await debugStreams()
      while (counts.subscribers !== 0 || counts.open !== 0) counts = await debugStreams()
      return counts
    }
    await released() // the clients of the tests before
    const name = newTopic()
    const client = new AbortController()
    await positioned(await subscribe(name, undefined, client.signal))
    expect(await debugStreams()).toMatchObject({ open: 1, timers: 1, subscribers: 1 })
    client.abort()
    expect(await released()).toMatchObject({ open: 0, timers: 0, subscribers: 0 })
  })

  it('keeps the history and the epoch across a restart of wrangler dev, and clients resume with their ids', async () => {
    const name = newTopic()
    const live = await positioned(await subscribe(name))
    const before = [await publish(name, 'e1'), await publish(name, 'e2'), await publish(name, 'e3')]
    expect(await live.take(3)).toEqual(['e1', 'e2', 'e3'].map((data, i) => message(data, before[i] as string)))
    await server.stop()
    // Its stream is cut with the server: it reconnects with its last id.
    expect(await live.readChunk().catch(() => false)).toBe(false)
    server = await startServer('workerd', env, undefined, state)
    const [epoch] = (before[0] as string).split('-')
    const after = await publish(name, 'e4')
    expect(after).toBe(`${epoch}-4`)
    // The live client reconnects with the id it had, and gets exactly what came since.
    const resumed = await subscribe(name, live.lastEventId)
    expect(await resumed.take(1)).toEqual([message('e4', after)])
    // An older client gets the held events from before the restart, with their ids.
    const older = await subscribe(name, before[0])
    expect(await older.take(3)).toEqual([
      message('e2', before[1] as string),
      message('e3', before[2] as string),
      message('e4', after),
    ])
    await Promise.all([resumed.cancel(), older.cancel()])
  })
})
