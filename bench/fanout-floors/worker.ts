/**
 * Fan-out floor for workerd: a bare Worker, each subscriber a plain pull
 * `ReadableStream` cursor over the frames of this isolate (cursor.ts); a POST
 * publishes its body. No Hono, no edge-sse. Bundled by esbuild into
 * bench/.build/fanout-floor-worker.js, served by bench/fanout-floors/workerd.capnp.
 */
import { cursorStream } from './cursor.ts'
import { Frames, HEADERS, published } from './frames.ts'

// `workerd serve` runs one isolate: every request shares these frames.
const frames = new Frames()
// edge-sse's default keep-alive period.
const KEEP_ALIVE_MS = 15_000

export default {
  async fetch(request) {
    if (request.method === 'POST') return published(frames.publish(await request.text()))
    return new Response(cursorStream(frames, { signal: request.signal, keepAliveMs: KEEP_ALIVE_MS }), {
      headers: HEADERS,
    })
  },
} satisfies ExportedHandler
