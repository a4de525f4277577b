/**
 * `edge-sse/redis` as users install it: the packed tarball with ioredis in a
 * fresh project, the README's Redis rooms (consumer-redis/rooms.ts) mounted
 * in place of rooms.ts by the Node, Bun and Deno entries, the three on one
 * real redis-server: a message published through one reaches clients of the
 * others, a client resumes on another process, and while Redis is away a
 * publish is refused with 503 and a new client told to come back.
 */
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bin, installConsumer, spawnWatched, typecheck } from '../support/consumer.ts'
import type { WatchedProcess } from '../support/process.ts'
import { type RedisServer, startRedis } from '../support/redis-server.ts'
import { freePort } from '../support/servers.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const tarball = inject('tarball')
const runtimes = ['node', 'bun', 'deno'] as const
type Runtime = (typeof runtimes)[number]

let dir: string
let redis: RedisServer
const servers = new Map<Runtime, { server: WatchedProcess; url: string }>()

async function start(runtime: Runtime): Promise<{ server: WatchedProcess; url: string }> {
  const port = await freePort()
  const env = { PORT: String(port), REDIS_URL: redis.url }
  const server =
    runtime === 'node'
      ? spawnWatched(process.execPath, ['node.ts'], dir, env)
      : runtime === 'bun'
        ? spawnWatched(bin('bun'), ['bun.ts'], dir, env)
        : spawnWatched(
            bin('deno'),
            ['run', '--allow-net', '--allow-env', '--unstable-no-legacy-abort', 'deno.ts'],
            dir,
            env,
          )
  try {
    await server.waitForOutput(/listening on http:\/\//, 60_000)
  } catch (error) {
    await server.stop()
    throw error
  }
  return { server, url: `http://127.0.0.1:${port}/` }
}

beforeAll(async () => {
  ;[dir, redis] = await Promise.all([
    installConsumer(tarball, {
      hono: 'node_modules/hono',
      '@hono/node-server': 'node_modules/@hono/node-server',
      ioredis: 'node_modules/ioredis',
      '@types/node': 'node_modules/@types/node',
    }),
    startRedis(),
  ])
  copyFileSync(new URL('./consumer-redis/rooms.ts', import.meta.url), join(dir, 'rooms.ts'))
  const started = await Promise.allSettled(runtimes.map(async (runtime) => servers.set(runtime, await start(runtime))))
  for (const result of started) if (result.status === 'rejected') throw result.reason
})

afterAll(async () => {
  await Promise.all([...servers.values()].map(({ server }) => server.stop()))
  await redis?.remove()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const room = (runtime: Runtime, name: string) => new URL(`rooms/${name}`, servers.get(runtime)?.url)
const publish = (runtime: Runtime, name: string, data: string) =>
  fetch(room(runtime, name), { method: 'POST', body: data })
const open = async (runtime: Runtime, name: string, lastEventId?: string) => {
  const res = await fetch(room(runtime, name), { headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {} })
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
  return new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
}
const idOf = async (res: Response) => {
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}

describe('the Redis rooms of the README, from the packed package', () => {
  it('type-checks on Node with ioredis, strict', async () => {
    // skipLibCheck on: ioredis 6.1's own declarations import redis-errors,
    // which ships no types, so skipLibCheck off fails inside ioredis.
    const options = { types: ['node'], skipLibCheck: true }
    await typecheck(dir, 'tsconfig.redis.json', options, ['app.ts', 'rooms.ts', 'node.ts'])
  })

  it('delivers what one process publishes to clients of the others, and resumes a client on another process', async () => {
    const first = await idOf(await publish('node', 'lobby', 'hello'))
    expect(first).toMatch(/^\d+-\d+$/) // its Redis stream id, the same on every process
    // `last: 10`: a new client gets the newest held messages first, from Redis.
    const onBun = await open('bun', 'lobby')
    const onDeno = await open('deno', 'lobby')
    const hello = [{ type: 'message', data: 'hello', lastEventId: first }]
    expect(await onBun.take(1)).toEqual(hello)
    expect(await onDeno.take(1)).toEqual(hello)
    const live = await idOf(await publish('deno', 'lobby', 'live'))
    const liveEvent = [{ type: 'message', data: 'live', lastEventId: live }]
    expect(await onBun.take(1)).toEqual(liveEvent)
    expect(await onDeno.take(1)).toEqual(liveEvent)
    await onBun.cancel()
    const missed = await idOf(await publish('bun', 'lobby', 'while away'))
    const back = await open('node', 'lobby', live)
    expect(await back.take(1)).toEqual([{ type: 'message', data: 'while away', lastEventId: missed }])
    await Promise.all([back.cancel(), onDeno.cancel()])
  })

  it('refuses a publish with 503 while Redis is away, and tells a new client to come back', async () => {
    await redis.stop()
    try {
      const res = await publish('bun', 'quiet', 'lost?')
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.text()).toMatch(/Redis/)
      const get = await fetch(room('node', 'quiet'))
      expect(get.status).toBe(200)
      expect(await get.text()).toBe('retry: 3000\n\n')
    } finally {
      await redis.start()
    }
  })
})
