/**
 * Floor for Node: bare `node:http` serving floorStream() (stream.ts) on every
 * path, no Hono, no edge-sse, no @hono/node-server. The stream's chunks go
 * to the response by a reader loop with `res.write`, which is what
 * @hono/node-server does with a Response body (minus its Response adapter);
 * the client leaving cancels the reader, which clears the timer. The same
 * accept backlog as edge-sse's Node server, so both queue connections alike.
 */
import http from 'node:http'
import process from 'node:process'
import { encodeChunks, floorStream, HEADERS } from './stream.ts'

const chunks = encodeChunks(Number(process.env.SSE_FRAMES ?? 5))
const intervalMs = Number(process.env.SSE_INTERVAL_MS ?? 1000)

async function pipe(stream: ReadableStream<Uint8Array>, res: http.ServerResponse): Promise<void> {
  const reader = stream.getReader()
  res.once('close', () => reader.cancel())
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    // No wait for 'drain': a stream holds at most six chunks of a few dozen bytes.
    res.write(value)
  }
  res.end()
}

http
  .createServer((_req, res) => {
    res.writeHead(200, HEADERS)
    void pipe(floorStream(chunks, intervalMs), res)
  })
  .listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000), backlog: 4096 })
