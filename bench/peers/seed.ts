/**
 * Peer: the seed demo's node:http SSE server, its logic unchanged (writeHead,
 * setInterval, res.write, end after five frames, one log line per client);
 * only the port and the index.html branch differ. Note: Node sends the head
 * with the first write, so headers arrive with frame 1, one interval late.
 */
import http from 'node:http'
import process from 'node:process'

const frames = Number(process.env.SSE_FRAMES ?? 5)
const intervalMs = Number(process.env.SSE_INTERVAL_MS ?? 1000)
const port = Number(process.env.PORT ?? 3000)

http
  .createServer((req, res) => {
    if (req.url === '/events') {
      console.log('Client connected to SSE endpoint')
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'Access-Control-Allow-Origin': '*',
      })
      let count = 0
      const interval = setInterval(() => {
        res.write(`data: Message ${++count}\n\n`)
        if (count >= frames) {
          clearInterval(interval)
          res.end()
        }
      }, intervalMs)
    } else {
      res.writeHead(404)
      res.end('Not found')
    }
  })
  .listen(port, process.env.HOST ?? '127.0.0.1', () => {
    console.log(`SSE server running at http://127.0.0.1:${port}`)
  })
