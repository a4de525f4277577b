/**
 * Peer: better-sse on node:http. Its defaults send a `retry:` preamble at once
 * and keep-alive comments; events are serialized with String() rather than the
 * default JSON.stringify so the frames match the others byte for byte in meaning.
 */
import http from 'node:http'
import process from 'node:process'
import { createSession } from 'better-sse'

const frames = Number(process.env.SSE_FRAMES ?? 5)
const intervalMs = Number(process.env.SSE_INTERVAL_MS ?? 1000)

http
  .createServer(async (req, res) => {
    if (req.url !== '/events') {
      res.writeHead(404).end('Not found')
      return
    }
    const session = await createSession(req, res, { retry: 3000, serializer: String })
    let n = 0
    const timer = setInterval(() => {
      n++
      session.push(`Message ${n}`, 'message', String(n))
      if (n >= frames) {
        clearInterval(timer)
        res.end()
      }
    }, intervalMs)
    session.once('disconnected', () => clearInterval(timer))
  })
  .listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1')
