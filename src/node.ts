/** Node entry: `node src/node.ts` (Node 22+ strips the types). */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { runServer } from './server.ts'

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port }) =>
    new Promise((resolve) => {
      serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => resolve(info.port))
    }),
})
