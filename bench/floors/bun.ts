/**
 * Floor for Bun: bare `Bun.serve` answering every path with
 * `new Response(floorStream())` (stream.ts), no Hono, no edge-sse. Bun
 * cancels the stream when the client leaves, which clears the timer.
 */
import { encodeChunks, floorStream, HEADERS } from './stream.ts'

const chunks = encodeChunks(Number(Bun.env.SSE_FRAMES ?? 5))
const intervalMs = Number(Bun.env.SSE_INTERVAL_MS ?? 1000)

Bun.serve({
  hostname: Bun.env.HOST ?? '127.0.0.1',
  port: Number(Bun.env.PORT ?? 3000),
  // Bun's default 10 s idle timeout would cut a quiet stream; a bare server
  // turns it off (edge-sse's exempts each stream with server.timeout()).
  idleTimeout: 0,
  fetch: () => new Response(floorStream(chunks, intervalMs), { headers: HEADERS }),
})
