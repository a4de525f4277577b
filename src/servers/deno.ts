/**
 * Deno entry: `deno run --allow-net --allow-read --allow-env src/servers/deno.ts`.
 * Deno.serve itself; with TLS files it speaks HTTP/2 by ALPN and HTTP/1.1 to
 * clients that ask for it. It has no header deadline and no hook to build one
 * (denoland/deno#3515): a connection that never finishes a request stays open
 * until its client goes, so put a proxy in front (README, "Operating it").
 */
import { serveStatic } from 'hono/deno'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port, tls }) =>
    new Promise((resolve) => {
      // Said once at start rather than ignored in silence.
      if (Deno.env.get('SSE_HEADERS_TIMEOUT_MS')) {
        console.error(
          'SSE_HEADERS_TIMEOUT_MS has no effect on Deno: Deno.serve has no header deadline (denoland/deno#3515)',
        )
      }
      const server = Deno.serve(
        {
          hostname,
          port,
          ...tls,
          // Our onListen also replaces Deno's own "Listening on" line.
          onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }),
        },
        app.fetch,
      )
    }),
})
