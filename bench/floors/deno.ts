/**
 * Floor for Deno: bare `Deno.serve` answering every path with
 * `new Response(floorStream())` (stream.ts), no Hono, no edge-sse. Deno
 * cancels the stream when the client leaves, which clears the timer.
 */
import { encodeChunks, floorStream, HEADERS } from './stream.ts'

const chunks = encodeChunks(Number(Deno.env.get('SSE_FRAMES') ?? 5))
const intervalMs = Number(Deno.env.get('SSE_INTERVAL_MS') ?? 1000)

Deno.serve(
  { hostname: Deno.env.get('HOST') ?? '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 3000) },
  () => new Response(floorStream(chunks, intervalMs), { headers: HEADERS }),
)
