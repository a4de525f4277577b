/** Bun entry: `bun src/servers/bun.ts`. */
import { serveStatic } from 'hono/bun'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: async (app, { hostname, port }) => {
    const server = Bun.serve({
      fetch: app.fetch,
      hostname,
      port,
      // Bun closes a connection idle for 10 s by default, which cuts a stream
      // whose frames or keep-alives are further apart; 0 turns that off.
      idleTimeout: 0,
    })
    // stop() without force lets open responses finish.
    return { port: server.port ?? port, close: () => server.stop() }
  },
})
