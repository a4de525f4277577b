/**
 * Topics over real HTTP on every runtime's server: several clients on one
 * topic, resume after a reconnect, the gap event for an id the topic does not
 * know, every bad publish, clients that never read while the topic is
 * flooded, and a client that leaves being released.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printedFromNow } from '../support/process.ts'
import { type RunningServer, runtimes, startServer } from '../support/servers.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const TOKEN = 'runtime-test-token-0123'
const HISTORY = 100

interface Counts {
  open: number
  topics?: number
  subscribers?: number
}

/** Resident memory of `pid`, in bytes. */
const rssOfPid = (pid: number | string) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024

/** The resident memory of a server's runtime, in bytes: its process, or under wrangler dev its workerd processes. */
function rssOf(server: RunningServer): number {
  if (server.runtime !== 'workerd') return rssOfPid(server.pid)
  // wrangler runs two workerd (its proxy and the Worker) in its process group.
  let total = 0
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
    if (comm === 'workerd' && pgrp === server.pid) total += rssOfPid(pid)
  }
  return total
}

describe.each(runtimes)('%s: topics', (runtime) => {
  let server: RunningServer
  const readers: EventStreamReader[] = []
  beforeAll(async () => {
    server = await startServer(runtime, {
      SSE_DEBUG: '1',
      SSE_PUBLISH_TOKEN: TOKEN,
      SSE_TOPIC_HISTORY: String(HISTORY),
      SSE_KEEPALIVE_MS: '1000',
    })
  })
  afterAll(async () => {
    await Promise.all(readers.splice(0).map((reader) => reader.cancel().catch(() => {})))
    await server?.stop()
  })

  const url = (path: string) => new URL(path, server.url)
  const counts = async (): Promise<Counts> => (await fetch(url('debug/streams'))).json()
  const publish = async (topic: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url(`topics/${topic}`), {
      method: 'POST',
      body,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/plain', ...headers },
    })
  const publishOk = async (topic: string, data: string): Promise<string> => {
    const res = await publish(topic, data)
    expect(res.status).toBe(201)
    return ((await res.json()) as { id: string }).id
  }
  /** A subscriber that has read its opening: the retry field, and the position frame when it has no id. */
  const subscribe = async (topic: string, lastEventId?: string, signal?: AbortSignal) => {
    const headers: Record<string, string> = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }
    const res = await fetch(url(`topics/${topic}`), { headers, signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
    readers.push(reader)
    while (lastEventId === undefined ? reader.lastEventId === '' : reader.chunks.length === 0) {
      await reader.readChunk()
    }
    return reader
  }

  it('gives three clients of one topic the same published events, in order, with the ids the publishes got', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => subscribe('three')))
    const ids: string[] = []
    for (const data of ['one', 'two', 'line 1\nline 2']) ids.push(await publishOk('three', data))
    const expected = [
      { type: 'message', data: 'one', lastEventId: ids[0] },
      { type: 'message', data: 'two', lastEventId: ids[1] },
      { type: 'message', data: 'line 1\nline 2', lastEventId: ids[2] },
    ]
    for (const client of clients) expect(await client.take(3)).toEqual(expected)
  })

  it('gives a client that reconnects with Last-Event-ID exactly the events it missed, then live ones', async () => {
    const client = new AbortController()
    const first = await subscribe('resume', undefined, client.signal)
    const seen = await (async () => {
      await publishOk('resume', 'a')
      return first.take(1)
    })()
    client.abort()
    const missed = [await publishOk('resume', 'b'), await publishOk('resume', 'c')]
    const again = await subscribe('resume', first.lastEventId)
    expect(first.lastEventId).toBe(seen[0]?.lastEventId)
    expect(await again.take(2)).toEqual([
      { type: 'message', data: 'b', lastEventId: missed[0] },
      { type: 'message', data: 'c', lastEventId: missed[1] },
    ])
    const live = await publishOk('resume', 'd')
    expect(await again.take(1)).toEqual([{ type: 'message', data: 'd', lastEventId: live }])
  })

  it('sends the gap event first to an id the topic does not know, then live events', async () => {
    const latest = await publishOk('foreign', 'held')
    const client = await subscribe('foreign', 'zzzzzzzz-5')
    const [gap] = await client.take(1)
    expect(gap?.type).toBe('gap')
    expect(JSON.parse(gap?.data ?? '')).toMatchObject({ reason: 'unknown', latest })
    expect(gap?.lastEventId).toBe(latest)
    const live = await publishOk('foreign', 'after')
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'after', lastEventId: live }])
  })

  let badCase = 0
  it.each([
    ['no token', { Authorization: '' }, 'x', 401],
    ['a wrong token', { Authorization: 'Bearer wrong-token-wrong-token' }, 'x', 401],
    ['a body over 64 KiB', {}, 'x'.repeat(65_537), 413],
    ['bad JSON', { 'Content-Type': 'application/json' }, '{"data":', 400],
    ['a refused event', { 'Content-Type': 'application/json' }, '{"event":"a\\nb","data":"x"}', 400],
    ['another content type', { 'Content-Type': 'application/octet-stream' }, 'x', 415],
  ])('refuses a publish with %s (%o), and no subscriber gets it', async (_, headers, body, status) => {
    badCase += 1
    const topic = `bad-${badCase}`
    const client = await subscribe(topic)
    const res = await publish(topic, body, headers)
    expect(res.status).toBe(status)
    expect((await res.text()).split('\n')).toHaveLength(2) // one line, then the end
    const ok = await publishOk(topic, 'ok')
    expect(ok).toMatch(/-1$|^\d+-\d+$/)
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'ok', lastEventId: ok }])
  })

  it('refuses a bad topic name with the rule, and other methods with 405 and Allow', async () => {
    const bad = await fetch(url('topics/a.b'))
    expect([bad.status, await bad.text()]).toEqual([400, 'a topic name is 1 to 64 letters, digits, "-" or "_"\n'])
    const put = await fetch(url('topics/room'), { method: 'PUT', body: 'x' })
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, HEAD, POST, OPTIONS'])
    await put.body?.cancel()
  })

  it('releases a client that leaves: its cursor and the counts go back to zero', async () => {
    const before = await counts()
    const client = new AbortController()
    await subscribe('leaving', undefined, client.signal)
    expect(await counts()).toMatchObject({
      open: before.open + 1,
      topics: (before.topics ?? 0) + 1,
      subscribers: (before.subscribers ?? 0) + 1,
    })
    // Workers learn of it when the next keep-alive meets the closed connection (SSE_KEEPALIVE_MS).
    const ended = printedFromNow(server, /\{"msg":"stream end","reason":"cancelled","events":\d+\}/)
    client.abort()
    await ended
    // The topic held nothing: it is gone with its last subscriber.
    expect(await counts()).toMatchObject(before)
  })

  it('keeps memory bounded while 50 clients never read and 20,000 events of 1 KiB are published, and serves the others', async () => {
    const topic = 'flood'
    const before0 = await counts()
    const reading = await subscribe(topic)
    const stalled: Socket[] = []
    for (let i = 0; i < 50; i++) {
      const socket = connect(server.port, '127.0.0.1', () =>
        socket.write(`GET /topics/${topic} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
      )
      await new Promise((resolve) => socket.once('data', resolve))
      socket.pause()
      stalled.push(socket)
    }
    try {
      const before = rssOf(server)
      const res = await fetch(url(`debug/publish/${topic}?count=20000&size=1024`), { method: 'POST' })
      const { last } = (await res.json()) as { last: string }
      const grown = rssOf(server) - before
      // Held once, the flood leaves the history (100 KiB) and garbage: 11–15 MiB here. Pulled into each
      // stalled client's stream (highWaterMark without bound) it grew 113 MiB, shared bytes and all.
      // Under wrangler dev, workerd's RSS follows the object's SQLite storage instead: the same flood
      // with no subscriber at all moved it by −170 to +240 MiB, so it bounds nothing there; the
      // object's counts below show it holds the 51 cursors and nothing per client.
      console.log(`${runtime}: RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB over 20,000 × 1 KiB to 50 stalled clients`)
      if (runtime !== 'workerd') expect(grown).toBeLessThan(48 * 2 ** 20)
      expect(await counts()).toMatchObject({ subscribers: (before0.subscribers ?? 0) + 51 })
      // The reader is served: it reaches the end of the flood (through a gap if it fell behind), then live events.
      for (let seen = ''; seen !== last; ) seen = (await reading.take(1))[0]?.lastEventId ?? ''
      const live = await publishOk(topic, 'after the flood')
      expect(await reading.take(1)).toEqual([{ type: 'message', data: 'after the flood', lastEventId: live }])
    } finally {
      for (const socket of stalled) socket.destroy()
    }
  })
})
