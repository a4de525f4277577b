/**
 * Node entry: `node src/servers/node.ts` (Node 22+ strips the types). Plain
 * HTTP/1.1 with node:http, or with TLS files node:http2's secure server, which
 * speaks HTTP/2 by ALPN and HTTP/1.1 to clients that ask for it.
 */
import type { Server } from 'node:http'
import { createSecureServer, type Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { createAdaptorServer } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { watchSessions } from './http2-sessions.ts'
import { runServer } from './server.ts'

// What this entry uses of either server. The secure server has all of it for
// its HTTP/1.1 connections (allowHTTP1), though @types/node types it only on
// http.Server.
type NodeServer = Pick<Server, 'listen' | 'address' | 'close' | 'closeIdleConnections'>

await runServer({
  serveStatic: (root) => serveStatic({ root }),
  listen: (app, { hostname, port, tls, headersTimeoutMs }) =>
    new Promise((resolve) => {
      const secure = tls
        ? (createAdaptorServer({
            fetch: app.fetch,
            createServer: createSecureServer,
            // A client that never finishes its TLS handshake counts against the deadline too.
            serverOptions: { ...tls, allowHTTP1: true, handshakeTimeout: headersTimeoutMs },
          }) as Http2SecureServer)
        : undefined
      // Node's header timeout reaches HTTP/1.1 sockets of the secure server as
      // 'clientError' (ERR_HTTP_REQUEST_TIMEOUT), but unlike http.Server's
      // nothing then closes them. Dropping the connection answers any client
      // error on them.
      secure?.on('clientError', (_error: Error, socket: Duplex) => socket.destroy())
      const sessions = secure && watchSessions(secure, headersTimeoutMs)
      const server = (secure as NodeServer | undefined) ?? (createAdaptorServer({ fetch: app.fetch }) as Server)
      // The header deadline of HTTP/1.1 connections, plain or under TLS (Node's
      // defaults: 60 s, checked every 30 s). It ends when the request head has
      // arrived: a response, however long, is never cut by it. Set as
      // properties: the secure server reads them too, but only types them on
      // http.Server.
      // keepAliveTimeout: http.Server's own default, which the secure server
      // lacks: its idle HTTP/1.1 connections would stay open forever.
      Object.assign(server, {
        headersTimeout: headersTimeoutMs,
        connectionsCheckingInterval: 1000,
        keepAliveTimeout: 5000,
      })
      // Node's default accept queue (511) overflows when thousands of clients
      // connect at once; the kernel caps this at net.core.somaxconn.
      server.listen({ host: hostname, port, backlog: 4096 }, () =>
        resolve({
          port: (server.address() as AddressInfo).port,
          close: () =>
            new Promise((done) => {
              if (sessions) sessions.close()
              // close() drops only the HTTP/1.1 sockets idle right now; those
              // whose stream ends a moment later would be kept for the
              // keep-alive timeout.
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
