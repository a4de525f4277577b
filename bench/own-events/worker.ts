/**
 * Own-events on workerd: ownEventsApp() (app.ts) as a Worker. Bundled by
 * esbuild into bench/.build/own-events-worker.js and served by
 * bench/own-events/workerd.capnp.
 */
import type { Hono } from 'hono'
import { ownEventsApp } from './app.ts'

interface Env {
  SSE_FRAMES: string
  SSE_INTERVAL_MS: string
}

// Bindings arrive with the first request; one app per isolate.
let app: Hono | undefined

export default {
  fetch(request, env, ctx) {
    app ??= ownEventsApp(Number(env.SSE_FRAMES), Number(env.SSE_INTERVAL_MS))
    return app.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
