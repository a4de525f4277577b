/**
 * `edge-sse/cloudflare` as users install it: the README's topics Worker
 * (test/package/consumer-topics/) on the packed tarball, type-checked with
 * the Workers types that `wrangler types` generates for its wrangler.toml,
 * skipLibCheck off (the binding's `DurableObjectNamespace<TopicObject>`
 * needs TopicObject to be a `DurableObject`), then served by `wrangler dev`:
 * a published message reaches a client, and a client resumes.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bin, installConsumer, run, spawnWatched, typecheck } from '../support/consumer.ts'
import { freePort } from '../support/servers.ts'
import { EventStreamReader } from '../support/sse-client.ts'

const tarball = inject('tarball')
let dir: string
let state: string
beforeAll(async () => {
  const installed = await installConsumer(tarball, { hono: 'node_modules/hono' })
  dir = join(installed, 'topics')
  cpSync(new URL('./consumer-topics/', import.meta.url), dir, { recursive: true })
  state = mkdtempSync(join(tmpdir(), 'edge-sse-topics-state-'))
})
afterAll(() => {
  for (const folder of [dir && join(dir, '..'), state]) if (folder) rmSync(folder, { recursive: true, force: true })
})

describe('the topics Worker of the README', () => {
  it("type-checks with the Workers types of its wrangler.toml's binding, skipLibCheck off", async () => {
    await run(bin('wrangler'), ['types'], dir)
    const options = {
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2023'],
      types: ['./worker-configuration.d.ts'],
    }
    await typecheck(dir, 'tsconfig.json', options, ['worker.ts'])
  })

  it('publishes to a room over HTTP under wrangler dev, and a client resumes from its Last-Event-ID', async () => {
    const port = await freePort()
    const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort())]
    const server = spawnWatched(bin('wrangler'), [...args, '--persist-to', state], dir)
    try {
      await server.waitForOutput(/Ready on http:\/\//, 90_000)
      const room = new URL('rooms/lobby', `http://127.0.0.1:${port}/`)
      const publish = async (data: string) => {
        const res = await fetch(room, { method: 'POST', body: data })
        expect(res.status).toBe(201)
        return ((await res.json()) as { id: string }).id
      }
      const first = await publish('hello')
      // `last: 10`: a new client gets the newest held messages first.
      const res = await fetch(room)
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      const client = new EventStreamReader(res.body as ReadableStream<Uint8Array>)
      expect(await client.take(1)).toEqual([{ type: 'message', data: 'hello', lastEventId: first }])
      await client.cancel()
      const missed = await publish('while away')
      const again = new EventStreamReader(
        (await fetch(room, { headers: { 'Last-Event-ID': first } })).body as ReadableStream<Uint8Array>,
        first,
      )
      expect(await again.take(1)).toEqual([{ type: 'message', data: 'while away', lastEventId: missed }])
      await again.cancel()
    } finally {
      await server.stop()
    }
  })
})
