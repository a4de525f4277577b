/**
 * Fan-out floor for Deno: bare `Deno.serve`, each subscriber a plain pull
 * `ReadableStream` cursor over the shared frames (cursor.ts); a POST
 * publishes its body. No Hono, no edge-sse.
 */
import { cursorStream } from './cursor.ts'
import { Frames, HEADERS, published } from './frames.ts'

const frames = new Frames()

Deno.serve(
  { hostname: Deno.env.get('HOST') ?? '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 3000) },
  async (request) =>
    request.method === 'POST'
      ? published(frames.publish(await request.text()))
      : new Response(cursorStream(frames), { headers: HEADERS }),
)
