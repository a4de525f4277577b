/**
 * Floor for workerd: a bare Worker answering every path with
 * `new Response(floorStream())` (stream.ts), no Hono, no edge-sse. Bundled
 * by esbuild into bench/.build/floor-worker.js and served by
 * bench/floors/workerd.capnp.
 */
import { encodeChunks, floorStream, HEADERS } from './stream.ts'

interface Env {
  SSE_FRAMES: string
  SSE_INTERVAL_MS: string
}

// Bindings arrive with the first request; encoded once per isolate.
let chunks: Uint8Array[] | undefined

export default {
  fetch(_request, env) {
    chunks ??= encodeChunks(Number(env.SSE_FRAMES))
    return new Response(floorStream(chunks, Number(env.SSE_INTERVAL_MS)), { headers: HEADERS })
  },
} satisfies ExportedHandler<Env>
