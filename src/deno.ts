/** Deno entry: `deno run --allow-net --allow-read --allow-env src/deno.ts`. */
import { serveStatic } from 'hono/deno'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port }) =>
    new Promise((resolve) => {
      Deno.serve({ hostname, port, onListen: (address) => resolve(address.port) }, app.fetch)
    }),
})
