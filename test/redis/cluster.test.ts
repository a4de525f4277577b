/**
 * A Node, a Bun and a Deno server on one Redis, over HTTP as browsers use
 * them: every client of every server gets every event published through any
 * of them, once, in one order, with the same ids; a publish retried on
 * another instance is applied once; each server reads on one connection
 * whatever its clients; and the clients of a server that is killed resume on
 * another one from their Last-Event-ID.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { compareIds } from '../../src/lib/redis-entries.ts'
import {
  type Cluster,
  type Instance,
  publishOk,
  startCluster,
  subscribe,
  type TopicClient,
} from '../support/redis-cluster.ts'
import { clientNames } from '../support/redis-server.ts'
import type { ReceivedEvent } from '../support/sse-client.ts'

let cluster: Cluster
beforeAll(async () => {
  cluster = await startCluster()
})
afterAll(() => cluster?.stop())

const clients: TopicClient[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.close()
})
const join = async (...args: Parameters<typeof subscribe>) => {
  const client = await subscribe(...args)
  clients.push(client)
  return client
}

const message = (data: string, id: string): ReceivedEvent => ({ type: 'message', data, lastEventId: id })

describe('a cluster of Node, Bun and Deno on one Redis', () => {
  it('gives every client of every server every event published through any of them: once, in one order, same ids', async () => {
    const { instances, redis } = cluster
    const readers = await Promise.all(instances.flatMap((server) => [1, 2, 3].map(() => join(server, 'mixed'))))
    // Ten events through each server, the three publishing at the same time.
    const perServer = await Promise.all(
      instances.map(async (server) => {
        const events: { id: string; data: string }[] = []
        for (let n = 1; n <= 10; n++) {
          const data = `${server.runtime} ${n}`
          events.push({ id: await publishOk(server, 'mixed', data), data })
        }
        return events
      }),
    )
    const published = perServer.flat().sort((a, b) => compareIds(a.id, b.id))
    // Redis's order is the one every client gets.
    const stream = await redis.admin.xrange('edge-sse:topic:mixed', '-', '+')
    expect(stream.map(([id]) => id)).toEqual(published.map(({ id }) => id))
    const expected = published.map(({ id, data }) => message(data, id))
    for (const { reader } of readers) expect(await reader.take(30)).toEqual(expected)
    // And nothing else: the next event each gets is the next one published.
    const last = await publishOk(instances[0] as Instance, 'mixed', 'last')
    for (const { reader } of readers) expect(await reader.take(1)).toEqual([message('last', last)])
  })

  it('applies a publish retried with the same Idempotency-Key on another instance once, with the same id', async () => {
    const [node, bun, deno] = cluster.instances as [Instance, Instance, Instance]
    const watcher = await join(bun, 'retried')
    const first = await publishOk(node, 'retried', 'order 42', { 'Idempotency-Key': 'order-42' })
    const retry = await publishOk(deno, 'retried', 'order 42', { 'Idempotency-Key': 'order-42' })
    expect(retry).toBe(first)
    expect(await cluster.redis.admin.xlen('edge-sse:topic:retried')).toBe(1)
    const next = await publishOk(bun, 'retried', 'next')
    expect(await watcher.reader.take(2)).toEqual([message('order 42', first), message('next', next)])
  })

  it('reads on two Redis connections per server, whatever its clients: 200 clients on 20 topics', async () => {
    const { instances, redis } = cluster
    const topics = Array.from({ length: 20 }, (_, i) => `many-${i}`)
    const readers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => join(instances[i % 3] as Instance, topics[i % 20] as string)),
    )
    const ids = await Promise.all(topics.map((topic, i) => publishOk(instances[i % 3] as Instance, topic, topic)))
    for (const [i, { reader }] of readers.entries()) {
      expect(await reader.take(1)).toEqual([message(topics[i % 20] as string, ids[i % 20] as string)])
    }
    // Every client has had an event: each server's reading connection is there.
    const names = await clientNames(redis.admin)
    for (const { client } of instances) {
      expect(names.filter((name) => name === client || name.startsWith(`${client}:`)).sort()).toEqual([
        client,
        `${client}:reader`,
      ])
    }
  })

  // Last: it kills a server of the cluster.
  it('resumes the clients of a server killed mid-stream on another, from their Last-Event-ID, missing nothing', async () => {
    const [node, bun, deno] = cluster.instances as [Instance, Instance, Instance]
    const victims = await Promise.all([1, 2, 3, 4].map(() => join(deno, 'failover')))
    const seen = [await publishOk(node, 'failover', 'a'), await publishOk(bun, 'failover', 'b')]
    for (const { reader } of victims)
      expect(await reader.take(2)).toEqual([message('a', seen[0] as string), message('b', seen[1] as string)])
    deno.signal('SIGKILL')
    await deno.exited
    // Their connections are cut; meanwhile the others publish.
    for (const { reader } of victims) expect(await reader.readChunk().catch(() => false)).toBe(false)
    const missed = [await publishOk(node, 'failover', 'c'), await publishOk(bun, 'failover', 'd')]
    const resumed = await Promise.all(
      victims.map(({ reader }, i) => join(i % 2 === 0 ? node : bun, 'failover', reader.lastEventId)),
    )
    for (const { reader } of resumed) {
      expect(await reader.take(2)).toEqual([message('c', missed[0] as string), message('d', missed[1] as string)])
    }
    const live = await publishOk(bun, 'failover', 'e')
    for (const { reader } of resumed) expect(await reader.take(1)).toEqual([message('e', live)])
  })
})
