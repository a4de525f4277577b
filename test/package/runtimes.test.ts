/**
 * The packed tarball installed outside the repo, and the README's consumer
 * files run with it on Node, Bun, Deno and Workers, checked over HTTP: the
 * bytes of a stream of one's own, resuming, 204, the mounted demo, that the
 * source's `finally` runs when the client leaves, and the chat rooms of
 * rooms.ts (topics in the process) on Node, Bun and Deno.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, inject, it } from 'vitest'
import { bin, installConsumer, spawnWatched } from '../support/consumer.ts'
import { readEvents } from '../support/http.ts'
import type { WatchedProcess } from '../support/process.ts'
import { freePort } from '../support/servers.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const tarball = inject('tarball')
const tick = (n: number) => `event: tick\nid: ${n}\ndata: {"n":${n},"of":3}\n\n`

const runtimes = ['node', 'bun', 'deno', 'workerd'] as const
type Runtime = (typeof runtimes)[number]

/** Starts one runtime's entry in `dir` on `port`: the command the README gives. */
async function start(runtime: Runtime, dir: string): Promise<{ server: WatchedProcess; url: string }> {
  const port = await freePort()
  const env = { PORT: String(port) }
  const server =
    runtime === 'node'
      ? spawnWatched(process.execPath, ['node.ts'], dir, env)
      : runtime === 'bun'
        ? spawnWatched(bin('bun'), ['bun.ts'], dir, env)
        : runtime === 'deno'
          ? spawnWatched(
              bin('deno'),
              ['run', '--allow-net', '--allow-env=PORT', '--unstable-no-legacy-abort', 'deno.ts'],
              dir,
              env,
            )
          : spawnWatched(
              bin('wrangler'),
              ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort())],
              dir,
            )
  try {
    await server.waitForOutput(runtime === 'workerd' ? /Ready on http:\/\// : /listening on http:\/\//, 90_000)
  } catch (error) {
    await server.stop()
    throw error
  }
  return { server, url: `http://127.0.0.1:${port}/` }
}

const servers = new Map<Runtime, { server: WatchedProcess; url: string }>()
const folders: string[] = []

beforeAll(async () => {
  // hono 4.0.0, the oldest our peer range allows, everywhere but Node:
  // @hono/node-server 2.1.9 imports defineWebSocketHelper from hono/ws, which
  // hono has only since 4.7.0, so Node runs on that (still older than ours).
  const [oldest, forNode] = await Promise.all([
    installConsumer(tarball, { hono: 'node_modules/hono-4.0.0' }),
    installConsumer(tarball, {
      hono: 'node_modules/hono-4.7.0',
      '@hono/node-server': 'node_modules/@hono/node-server',
    }),
  ])
  folders.push(oldest, forNode)
  const started = await Promise.allSettled(
    runtimes.map(async (runtime) => {
      servers.set(runtime, await start(runtime, runtime === 'node' ? forNode : oldest))
    }),
  )
  for (const result of started) if (result.status === 'rejected') throw result.reason
})

afterAll(async () => {
  await Promise.all([...servers.values()].map(({ server }) => server.stop()))
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

describe.concurrent.each(runtimes)('%s', (runtime) => {
  const get = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) => {
    const { url } = servers.get(runtime) as { url: string }
    return fetch(new URL(path, url), { headers, signal })
  }

  it('sends the ticks, byte for byte, with the SSE headers', async ({ expect }) => {
    const res = await get('ticks')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(await res.text()).toBe(`retry: 1000\n\n${tick(1)}${tick(2)}${tick(3)}`)
  })

  it('resumes after the Last-Event-ID the client sends', async ({ expect }) => {
    const res = await get('ticks', { 'Last-Event-ID': '1' })
    expect(await res.text()).toBe(`retry: 1000\n\n${tick(2)}${tick(3)}`)
  })

  it('answers 204 to a client that has every tick', async ({ expect }) => {
    const res = await get('ticks', { 'Last-Event-ID': '3' })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
  })

  it('serves the mounted demo under /sse', async ({ expect }) => {
    const res = await get('sse/events', { 'Last-Event-ID': '4' })
    expect(await res.text()).toBe('retry: 3000\n\nid: 5\ndata: Message 5\n\n')
  })

  it("runs the generator's finally when the client leaves", async ({ expect }) => {
    const client = new AbortController()
    const res = await get('ticks', {}, client.signal)
    expect(await readEvents((res.body as ReadableStream<Uint8Array>).getReader(), 1)).toBe(`retry: 1000\n\n${tick(1)}`)
    client.abort()
    // The only stream here that a client leaves: the others log "all sent".
    await (servers.get(runtime) as { server: WatchedProcess }).server.waitForOutput(/ticks: the client left/)
  })
})

// A Worker keeps its rooms in Durable Objects: consumer-topics/, tested in cloudflare.test.ts.
describe.concurrent.each(['node', 'bun', 'deno'] as const)('%s: rooms.ts', (runtime) => {
  const room = (name: string) => new URL(`rooms/${name}`, (servers.get(runtime) as { url: string }).url)
  const publish = async (name: string, data: string) => {
    const res = await fetch(room(name), { method: 'POST', body: data })
    if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`)
    return ((await res.json()) as { id: string }).id
  }
  const open = async (name: string, lastEventId?: string) => {
    const res = await fetch(room(name), { headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {} })
    return new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
  }

  it('gives a new client the newest messages, then live ones, and a returning client what it missed', async ({
    expect,
  }) => {
    const first = await publish('lobby', 'hello')
    const client = await open('lobby')
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'hello', lastEventId: first }])
    const live = await publish('lobby', 'live')
    expect(await client.take(1)).toEqual([{ type: 'message', data: 'live', lastEventId: live }])
    await client.cancel()
    const missed = await publish('lobby', 'while away')
    const back = await open('lobby', live)
    expect(await back.take(1)).toEqual([{ type: 'message', data: 'while away', lastEventId: missed }])
    await back.cancel()
  })

  it('answers a room name it does not accept with 404', async ({ expect }) => {
    const res = await fetch(room('Not_A_Room'))
    expect(res.status).toBe(404)
    await res.body?.cancel()
  })
})
