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
  listen: async (app, { hostname, port, tls, headersTimeoutMs, keepAliveMs }) => {
    // An event stream may be silent for longer than the idle timeout below
    // (frames far apart), but never for longer than its keep-alive period.
    // Bun keeps a request's own timeout on an HTTP/1.1 connection after the
    // response, with no hook to restore it, so rather than 0 (an idle
    // connection kept forever after its stream) streams get twice that
    // period; past Bun's limit (255 s), 0 after all.
    const streamIdleS = Math.ceil((2 * keepAliveMs) / 1000)
    const streamTimeoutS = streamIdleS <= 255 ? streamIdleS : 0
    const server = Bun.serve({
      fetch: app.fetch,
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
      onStreamOpen: (request) => server.timeout(request, streamTimeoutS),
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
