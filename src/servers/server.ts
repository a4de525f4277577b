/**
 * Runs the app as a standalone server on Node, Bun or Deno. Each runtime's
 * entry supplies how to listen and how to serve files; this module does the
 * rest the same way everywhere: settings from the environment (TLS files
 * included), the public/ folder, the one line that says where it listens, and
 * a graceful stop.
 */
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import type { Hono, MiddlewareHandler } from 'hono'
import { parseSettings, readInteger, readPublishToken, SettingsError } from '../lib/settings.ts'
import { demoApp } from './demo-app.ts'
import { connectRedis, type RedisConnection, readRedisUrl } from './redis.ts'
import { readTlsFiles, type TlsFiles } from './tls.ts'

/** A listening server, as a runtime's entry reports it. */
export interface Listening {
  /** The port actually bound (PORT=0 picks a free one). */
  port: number
  /** Stops accepting connections; resolves once open responses are done. */
  close: () => Promise<void>
  /** Called with the request of each stream as it opens, e.g. to exempt it from an idle timeout. */
  onStreamOpen?: (request: Request) => void
}

/** Where and how to listen. */
export interface ListenOptions {
  hostname: string
  port: number
  /** With these, HTTPS: HTTP/2 by ALPN, HTTP/1.1 for clients that ask for it. */
  tls: TlsFiles | undefined
  /**
   * Longest time a connection may take to send a whole request head, its TLS
   * handshake included, and an HTTP/2 session may stay without a stream; open
   * responses are never cut by it (`SSE_HEADERS_TIMEOUT_MS`).
   */
  headersTimeoutMs: number
  /** The longest a healthy stream stays silent: keep-alive comments come at least this often (`SSE_KEEPALIVE_MS`). */
  keepAliveMs: number
}

/** What a runtime's entry provides. */
export interface Runtime {
  /** The runtime's static file middleware for an absolute folder. */
  serveStatic: (root: string) => MiddlewareHandler
  /** Starts listening. */
  listen: (app: Hono, options: ListenOptions) => Promise<Listening>
}

/** public/, found from src/servers/ whatever the working directory is. */
export const publicDir = fileURLToPath(new URL('../../public/', import.meta.url))

type Env = Record<string, string | undefined>

function readServerConfig(env: Env) {
  return {
    settings: parseSettings(env),
    hostname: env.HOST || '127.0.0.1',
    port: readInteger(env, { variable: 'PORT', fallback: 8787, min: 0, max: 65535 }),
    shutdownMs: readInteger(env, { variable: 'SSE_SHUTDOWN_MS', fallback: 2000, min: 0, max: 60_000 }),
    debug: readInteger(env, { variable: 'SSE_DEBUG', fallback: 0, min: 0, max: 1 }) === 1,
    log: readInteger(env, { variable: 'SSE_LOG', fallback: 1, min: 0, max: 1 }) === 1,
    // From 1 s (Bun counts whole seconds) to 2 min (Node refuses a header
    // timeout over its request timeout, 5 min).
    headersTimeoutMs: readInteger(env, {
      variable: 'SSE_HEADERS_TIMEOUT_MS',
      fallback: 10_000,
      min: 1000,
      max: 120_000,
    }),
    tls: readTlsFiles(env),
    publishToken: readPublishToken(env),
    redisUrl: readRedisUrl(env),
  }
}

/** Reads the environment, builds the app and listens; a bad setting exits with one line and code 1. */
export async function runServer(runtime: Runtime, env: Env = process.env): Promise<void> {
  let config: ReturnType<typeof readServerConfig>
  let redis: RedisConnection | undefined
  try {
    config = readServerConfig(env)
    if (config.redisUrl) redis = await connectRedis(config.redisUrl, config.settings)
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error
    console.error(error.message)
    process.exit(1)
  }
  const { settings, hostname, shutdownMs, debug, log, tls, headersTimeoutMs, publishToken } = config
  // The app exists before the server does; no request arrives before listen() resolves.
  let server: Listening | undefined
  const { app, streams } = demoApp(settings, {
    debug,
    publishToken,
    // With REDIS_URL, topics shared by every instance on that Redis; else the default, in this process.
    ...(redis ? { topics: redis.topics } : {}),
    serveStatic: runtime.serveStatic(publicDir),
    onStreamOpen: (request) => server?.onStreamOpen?.(request),
    // A synchronous stdout write per stream is measurable under load (bench sets SSE_LOG=0).
    ...(log ? {} : { onStreamEnd: () => {} }),
  })
  const listen = { hostname, port: config.port, tls, headersTimeoutMs, keepAliveMs: settings.keepAliveMs }
  const listening = await runtime.listen(app, listen)
  server = listening
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  console.log(`edge-sse listening on ${tls ? 'https' : 'http'}://${host}:${listening.port}/`)

  // Stop accepting, close every stream between two frames (clients resume
  // elsewhere with their Last-Event-ID), close the Redis connections, and
  // exit 0, by the deadline at worst.
  const stop = (signal: string) => {
    if (streams.stopping) return
    console.log(JSON.stringify({ msg: 'shutting down', signal }))
    setTimeout(() => process.exit(0), shutdownMs).unref()
    const closed = listening.close()
    streams.shutdown()
    closed.then(() => {
      redis?.close()
      process.exit(0)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
