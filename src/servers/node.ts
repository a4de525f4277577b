/** Node entry: `node src/servers/node.ts` (Node 22+ strips the types). */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port }) =>
    new Promise((resolve) => {
      const server = createAdaptorServer({ fetch: app.fetch }) as Server
      // Node's default accept queue (511) overflows when thousands of clients
      // connect at once; the kernel caps this at net.core.somaxconn.
      server.listen({ host: hostname, port, backlog: 4096 }, () =>
        resolve({
          port: (server.address() as AddressInfo).port,
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
      )
    }),
})
