/** Node entry: `node src/node.ts` (Node 22+ strips the types). */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port }) =>
    new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) =>
        resolve({
          port: info.port,
          // close() waits for open responses and, since Node 19, drops idle keep-alive sockets.
          close: () => new Promise((done) => server.close(() => done())),
        }),
      )
    }),
})
