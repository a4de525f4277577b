/**
 * Fan-out floor for Bun: bare `Bun.serve`, each subscriber a plain pull
 * `ReadableStream` cursor over the shared frames (cursor.ts); a POST
 * publishes its body. No Hono, no edge-sse.
 */
import { cursorStream } from './cursor.ts'
import { Frames, HEADERS, published } from './frames.ts'

const frames = new Frames()

Bun.serve({
  hostname: Bun.env.HOST ?? '127.0.0.1',
  port: Number(Bun.env.PORT ?? 3000),
  // Bun's default 10 s idle timeout would cut a quiet stream.
  idleTimeout: 0,
  fetch: async (request) =>
    request.method === 'POST'
      ? published(frames.publish(await request.text()))
      : new Response(cursorStream(frames), { headers: HEADERS }),
})
