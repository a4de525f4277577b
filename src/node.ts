/** Node entry: `node src/node.ts` (Node 22+ strips the types). */
import type { Server } from 'node:http'
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
          close: () =>
            new Promise((done) => {
              // close() drops only the sockets idle right now; those whose stream
              // ends a moment later would be kept for the keep-alive timeout.
              const sweep = setInterval(() => server.closeIdleConnections(), 10)
              server.close(() => {
                clearInterval(sweep)
                done()
              })
            }),
        }),
      ) as Server
    }),
})
