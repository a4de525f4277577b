/**
 * Fan-out floor for Node: bare `node:http`, no Web Streams, no Hono, no
 * edge-sse. A publish (POST, the body is the data) encodes one frame and
 * writes that same buffer to every open response; a GET subscribes. The same
 * accept backlog as edge-sse's Node server.
 */
import http from 'node:http'
import process from 'node:process'
import { frameId, HEADERS, RETRY } from './frames.ts'

const subscribers = new Set<http.ServerResponse>()
let next = 1

function publish(data: string): string {
  const id = frameId(next++)
  const frame = Buffer.from(`id: ${id}\ndata: ${data}\n\n`)
  // No wait for 'drain': what a bare server does; a slow client's backlog grows in its socket.
  for (const res of subscribers) res.write(frame)
  return id
}

// Exits on SIGTERM (rather than dying of it), so that `--cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))

http
  .createServer((req, res) => {
    if (req.method === 'POST') {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => {
        body += chunk
      })
      req.on('end', () => {
        const id = publish(body)
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id }))
      })
      return
    }
    res.writeHead(200, HEADERS)
    res.write(RETRY)
    subscribers.add(res)
    res.once('close', () => subscribers.delete(res))
  })
  .listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000), backlog: 4096 })
