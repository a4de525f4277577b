/** Deno entry: `deno run --allow-net --allow-read --allow-env src/servers/deno.ts`. */
import { serveStatic } from 'hono/deno'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port }) =>
    new Promise((resolve) => {
      const server = Deno.serve(
        // Our onListen also replaces Deno's own "Listening on" line.
        { hostname, port, onListen: (address) => resolve({ port: address.port, close: () => server.shutdown() }) },
        app.fetch,
      )
    }),
})
