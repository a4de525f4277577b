/**
 * Peer for the fan-out rows: better-sse's `Channel.broadcast` on node:http.
 * A GET registers a session with the one channel; a POST (the body is the
 * data) broadcasts it with an id like edge-sse's. better-sse serializes the
 * event once per session; `String` instead of its default JSON.stringify so
 * the data is the same text as the others'.
 */
import http from 'node:http'
import process from 'node:process'
import { createChannel, createSession } from 'better-sse'
import { frameId } from '../fanout-floors/frames.ts'

const channel = createChannel()
let next = 1

// Exits on SIGTERM (rather than dying of it), so that `--cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))

http
  .createServer(async (req, res) => {
    if (req.method === 'POST') {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => {
        body += chunk
      })
      req.on('end', () => {
        const id = frameId(next++)
        channel.broadcast(body, 'message', { eventId: id })
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id }))
      })
      return
    }
    // A session deregisters itself from the channel when its client leaves.
    channel.register(await createSession(req, res, { retry: 3000, serializer: String }))
  })
  .listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000), backlog: 4096 })
