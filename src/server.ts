/**
 * Runs the app as a standalone server on Node, Bun or Deno. Each runtime's
 * entry supplies how to listen and how to serve files; this module does the
 * rest the same way everywhere: settings from the environment, the public/
 * folder, the one line that says where it listens.
 */
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import type { Hono, MiddlewareHandler } from 'hono'
import { createApp } from './app.ts'
import { parseSettings, readInteger, SettingsError } from './settings.ts'

/** What a runtime's entry provides. */
export interface Runtime {
  /** The runtime's static file middleware for an absolute folder. */
  serveStatic: (root: string) => MiddlewareHandler
  /** Starts listening; resolves with the port actually bound (PORT=0 picks a free one). */
  listen: (app: Hono, address: { hostname: string; port: number }) => Promise<number>
}

/** public/, found next to src/ whatever the working directory is. */
export const publicDir = fileURLToPath(new URL('../public/', import.meta.url))

/** Reads the environment, builds the app and listens; a bad setting exits with one line and code 1. */
export async function runServer(
  runtime: Runtime,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  let settings: ReturnType<typeof parseSettings>
  let port: number
  try {
    settings = parseSettings(env)
    port = readInteger(env, { variable: 'PORT', fallback: 8787, min: 0, max: 65535 })
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error
    console.error(error.message)
    process.exit(1)
  }
  const hostname = env.HOST || '127.0.0.1'
  const app = createApp({ settings, serveStatic: runtime.serveStatic(publicDir) })
  const bound = await runtime.listen(app, { hostname, port })
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  console.log(`edge-sse listening on http://${host}:${bound}/`)
}
