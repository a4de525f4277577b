/** Bun entry: `bun src/bun.ts`. */
import { serveStatic } from 'hono/bun'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: async (app, { hostname, port }) =>
    Bun.serve({
      fetch: app.fetch,
      hostname,
      port,
      // Bun closes a connection idle for 10 s by default, which cuts a stream
      // between two frames or keep-alives that are further apart; 0 disables it.
      idleTimeout: 0,
    }).port ?? port,
})
