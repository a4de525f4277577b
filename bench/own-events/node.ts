/**
 * Own-events on Node: ownEventsApp() (app.ts) on @hono/node-server, listening
 * as edge-sse's Node server does (accept backlog 4096).
 */
import type { Server } from 'node:http'
import process from 'node:process'
import { createAdaptorServer } from '@hono/node-server'
import { ownEventsApp } from './app.ts'

const app = ownEventsApp(Number(process.env.SSE_FRAMES ?? 5), Number(process.env.SSE_INTERVAL_MS ?? 1000))
const server = createAdaptorServer({ fetch: app.fetch }) as Server
server.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000), backlog: 4096 })
