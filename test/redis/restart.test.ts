/**
 * Redis restarts under a cluster of Node, Bun and Deno with streams open:
 * the streams stay open (keep-alives go on), publishes get 503 with
 * Retry-After and are never applied, each server says once that Redis is
 * lost and once that it is back; with its data, every event comes once, in
 * order; without it, every client gets the gap event, then live events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printedFromNow } from '../support/process.ts'
import {
  type Cluster,
  type Instance,
  publish,
  publishOk,
  startCluster,
  subscribe,
  type TopicClient,
} from '../support/redis-cluster.ts'
import type { ReceivedEvent } from '../support/sse-client.ts'

let cluster: Cluster
const clients: TopicClient[] = []
beforeAll(async () => {
  // Keep-alives every 200 ms: an open stream shows itself during the outage.
  cluster = await startCluster({ SSE_KEEPALIVE_MS: '200' })
})
afterAll(async () => {
  for (const client of clients.splice(0)) client.close()
  await cluster?.stop()
})

/** Stops Redis and starts it again (`keepData`: as with persistence on), once every server has said each. */
async function restartRedis(keepData: boolean): Promise<void> {
  const { redis, instances } = cluster
  const lost = instances.map((server) => printedFromNow(server, /\{"msg":"redis lost"/))
  await redis.stop()
  await Promise.all(lost)
  const back = instances.map((server) => printedFromNow(server, /\{"msg":"redis back"/))
  await redis.start({ keepData })
  await Promise.all(back)
}

const message = (data: string, id: string): ReceivedEvent => ({ type: 'message', data, lastEventId: id })
const decode = (chunk: Uint8Array | undefined) => new TextDecoder().decode(chunk)

describe('Redis restarts under open streams', () => {
  it('with its data: streams stay open, publishes get 503 and are never applied, then every event once', async () => {
    const { redis, instances } = cluster
    const [node, bun, deno] = instances as [Instance, Instance, Instance]
    clients.push(...(await Promise.all(instances.flatMap((server) => [1, 2].map(() => subscribe(server, 'outage'))))))
    const before = [
      await publishOk(node, 'outage', 'a'),
      await publishOk(bun, 'outage', 'b'),
      await publishOk(deno, 'outage', 'c'),
    ]
    for (const { reader } of clients) {
      expect(await reader.take(3)).toEqual(['a', 'b', 'c'].map((data, i) => message(data, before[i] as string)))
    }
    const lost = instances.map((server) => printedFromNow(server, /\{"msg":"redis lost".*\n/))
    await redis.stop()
    await Promise.all(lost)
    // While Redis is away: publishes get 503, and streams stay open (keep-alive comments, nothing else).
    const refusals = instances.map(async (server) => {
      const res = await publish(server, 'outage', 'never')
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.text()).toMatch(/^Redis is not connected \(client status: \w+\)\n$/)
    })
    // A topic a server holds is served from memory; one it does not hold is unavailable, as when the server is full.
    const fromMemory = subscribe(bun, 'outage', before[0]).then(async (client) => {
      expect(await client.reader.take(2)).toEqual(['b', 'c'].map((data, i) => message(data, before[i + 1] as string)))
      client.close()
    })
    const unavailable = instances.map(async (server) => {
      const plain = await fetch(new URL('topics/elsewhere', server.url))
      expect([plain.status, plain.headers.get('retry-after')]).toEqual([503, '3'])
      const eventSource = await fetch(new URL('topics/elsewhere', server.url), {
        headers: { Accept: 'text/event-stream' },
      })
      expect(eventSource.status).toBe(200)
      expect(await eventSource.text()).toMatch(/^retry: 3000\n\n: Redis is not connected/)
    })
    const keptAlive = clients.map(async ({ reader }) => {
      const from = reader.chunks.length
      const since = () => reader.chunks.slice(from).map(decode).join('')
      while (since() === '') expect(await reader.readChunk()).toBe(true)
      expect(since()).toMatch(/^(:\n)+$/)
    })
    await Promise.all([...refusals, fromMemory, ...unavailable, ...keptAlive])

    // The clients read on, as browsers do, while Redis comes back.
    const reading = clients.map(({ reader }) => reader.take(3))
    const back = instances.map((server) => printedFromNow(server, /\{"msg":"redis back".*\n/))
    await redis.start({ keepData: true })
    // Published as soon as Node is back, while the others may still be reconnecting.
    await back[0]
    const after = [await publishOk(node, 'outage', 'd')]
    await Promise.all(back)
    after.push(await publishOk(bun, 'outage', 'e'), await publishOk(deno, 'outage', 'f'))
    for (const events of await Promise.all(reading)) {
      expect(events).toEqual(['d', 'e', 'f'].map((data, j) => message(data, after[j] as string)))
    }
    const stream = await redis.admin.xrange('edge-sse:topic:outage', '-', '+')
    expect(stream.map(([id]) => id)).toEqual([...before, ...after])
    for (const server of instances) {
      expect(server.output().match(/"msg":"redis lost"/g)).toHaveLength(1)
      expect(server.output().match(/"msg":"redis back"/g)).toHaveLength(1)
    }
  })

  it('without its data (no persistence): every client gets the gap event, then live events', async () => {
    const [, bun, deno] = cluster.instances as [Instance, Instance, Instance]
    const reading = clients.map(({ reader }) => reader.take(1))
    await restartRedis(false)
    const first = await publishOk(bun, 'outage', 'g')
    for (const [gap] of await Promise.all(reading)) {
      expect(gap?.type).toBe('gap')
      expect(JSON.parse(gap?.data ?? '')).toEqual({ reason: 'reset', oldest: first, latest: first })
      expect(gap?.lastEventId).toBe(first)
    }
    const next = await publishOk(deno, 'outage', 'h')
    for (const { reader } of clients) expect(await reader.take(1)).toEqual([message('h', next)])
  })
})
