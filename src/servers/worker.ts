/**
 * Cloudflare Workers entry (wrangler.toml `main`). public/ is served by
 * Workers Static Assets before the Worker runs; settings come from `[vars]`.
 */
import type { Hono } from 'hono'
import { parseSettings, readInteger, readPublishToken, SettingsError } from '../lib/settings.ts'
import { demoApp } from './demo-app.ts'

// One app per env object: vars are fixed for the life of an isolate.
const apps = new WeakMap<object, Hono>()

function appFor(env: Record<string, unknown>): Hono {
  let app = apps.get(env)
  if (!app) {
    const debug = readInteger(env, { variable: 'SSE_DEBUG', fallback: 0, min: 0, max: 1 }) === 1
    app = demoApp(parseSettings(env), { debug, publishToken: readPublishToken(env) }).app
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
