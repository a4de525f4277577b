/**
 * Bun entry: `bun src/servers/bun.ts`. Bun.serve itself, also with TLS files:
 * its `http2` option (experimental in Bun 1.4) negotiates HTTP/2 by ALPN and
 * keeps HTTP/1.1 for clients that ask for it; node:http2 under Bun would be a
 * JavaScript HTTP/2 stack in front of the same app.
 */
import { serveStatic } from 'hono/bun'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: async (app, { hostname, port, tls, headersTimeoutMs }) => {
    const server = Bun.serve({
      async fetch(request, server) {
        const response = await app.fetch(request, server)
        // An event stream may be silent for longer than the idle timeout
        // below (frames far apart, keep-alives every 15 s), which would cut
        // it: 0 turns it off for this request alone.
        if (response.body && response.headers.get('Content-Type')?.startsWith('text/event-stream')) {
          server.timeout(request, 0)
        }
        return response
      },
      hostname,
      port,
      ...(tls ? { tls, http2: true } : {}),
      // Bun closes a connection idle this long (whole seconds; default 10): an
      // HTTP/2 session with no stream, or a keep-alive connection between two
      // requests. A request head still incomplete after 10 s and a TLS
      // handshake that long are closed by Bun itself, whatever this says.
      idleTimeout: Math.ceil(headersTimeoutMs / 1000),
    })
    return {
      port: server.port ?? port,
      close: async () => {
        // stop() lets open responses finish and sends GOAWAY to every HTTP/2
        // session, but waits out the idle timeout for a connection whose
        // preface it has not read yet. Once no response is open, whatever
        // is left is idle: stop(true) closes it.
        const stopped = server.stop()
        const sweep = setInterval(() => server.pendingRequests === 0 && server.stop(true), 10)
        await stopped
        clearInterval(sweep)
      },
    }
  },
})
