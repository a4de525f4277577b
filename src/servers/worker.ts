/**
 * Cloudflare Workers entry (wrangler.toml `main`). public/ is served by
 * Workers Static Assets before the Worker runs; settings come from `[vars]`.
 */
import type { Hono } from 'hono'
import { createApp } from '../lib/app.ts'
import { StreamRegistry } from '../lib/registry.ts'
import { parseSettings, readInteger, SettingsError } from '../lib/settings.ts'
import { addDebugRoutes } from './debug.ts'

// One app per env object: vars are fixed for the life of an isolate.
const apps = new WeakMap<object, Hono>()

function appFor(env: Record<string, unknown>): Hono {
  let app = apps.get(env)
  if (!app) {
    const settings = parseSettings(env)
    const { maxStreams, busyRetryMs, ...stream } = settings
    const streams = new StreamRegistry({ maxStreams, busyRetryMs })
    app = createApp({ settings: stream, streams })
    if (readInteger(env, { variable: 'SSE_DEBUG', fallback: 0, min: 0, max: 1 }) === 1) {
      addDebugRoutes(app, settings, streams)
    }
    apps.set(env, app)
  }
  return app
}

export default {
  fetch(request, env, ctx) {
    try {
      return appFor(env).fetch(request, env, ctx)
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error
      console.error(error.message)
      return new Response(`${error.message}\n`, { status: 500 })
    }
  },
} satisfies ExportedHandler<Record<string, unknown>>
