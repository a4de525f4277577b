/**
 * REDIS_URL: with it, the Node, Bun and Deno servers keep their topics in
 * Redis, shared by every instance on it; without it, in the process. The URL
 * is checked and the server connects once at start, so a typo, a Redis that
 * is not there or a wrong password stops the server with one line naming the
 * variable, instead of a server whose every publish fails. Once running,
 * Redis may go away and come back: one line says when it is lost, one when
 * it is back.
 */
import process from 'node:process'
import type { Redis as RedisClient } from 'ioredis'
import { reconnectDelay } from '../lib/redis-client.ts'
import { RedisTopics } from '../lib/redis-topics.ts'
import { type Settings, SettingsError } from '../lib/settings.ts'

type Env = Record<string, string | undefined>

/** The longest the first connection may take (a host that does not answer at all). */
const CONNECT_MS = 3000

/** The URL as logs may show it: without its password. */
function shown(url: URL): string {
  const copy = new URL(url)
  if (copy.password) copy.password = '***'
  return copy.href
}

/** `REDIS_URL`, checked: a redis:// or rediss:// URL, or `undefined` when unset or empty. Throws a {@link SettingsError}. */
export function readRedisUrl(env: Env): URL | undefined {
  const value = env.REDIS_URL
  if (!value) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    // Not a URL: said as is (a URL's password would have been hidden).
  }
  if (url?.protocol !== 'redis:' && url?.protocol !== 'rediss:') {
    throw new SettingsError(
      `REDIS_URL must be a redis:// or rediss:// URL, got ${JSON.stringify(url ? shown(url) : value)}`,
    )
  }
  return url
}

/** The topics in Redis, and how to close their connections. */
export interface RedisConnection {
  topics: RedisTopics
  close(): void
}

/** Connects to `url` and makes the topic store; a Redis that cannot be reached throws a {@link SettingsError}. */
export async function connectRedis(url: URL, settings: Settings): Promise<RedisConnection> {
  // Named so that CLIENT LIST tells this process's connections apart (the reader's adds ":reader");
  // their addresses tell machines apart.
  const name = `edge-sse:${process.pid}`
  // Loaded only with REDIS_URL: a server without it does not pay for the client.
  const { Redis } = await import('ioredis')
  const redis: RedisClient = new Redis(url.href, {
    connectionName: name,
    lazyConnect: true,
    connectTimeout: CONNECT_MS,
    retryStrategy: reconnectDelay,
    // A publish sent while Redis is away fails at once (503) and is never sent later.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
  })
  let lastError: Error | undefined
  redis.on('error', (error: Error) => {
    lastError = error
  })
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    const reason = (lastError ?? (error as Error)).message
    throw new SettingsError(`REDIS_URL must reach a Redis server, got ${JSON.stringify(shown(url))} (${reason})`)
  }
  console.log(JSON.stringify({ msg: 'topics in redis', url: shown(url), client: name }))

  let lostAt: number | undefined
  let closing = false
  redis.on('close', () => {
    if (closing || lostAt !== undefined) return
    lostAt = Date.now()
    const reason = lastError ? { error: lastError.message } : {}
    console.error(JSON.stringify({ msg: 'redis lost', url: shown(url), ...reason }))
  })
  redis.on('ready', () => {
    lastError = undefined
    if (lostAt === undefined) return
    console.log(JSON.stringify({ msg: 'redis back', url: shown(url), downMs: Date.now() - lostAt }))
    lostAt = undefined
  })

  const topics = new RedisTopics({ redis, history: settings.topicHistory, historyMs: settings.topicHistoryMs })
  return {
    topics,
    close: () => {
      closing = true
      topics.close()
      redis.disconnect()
    },
  }
}
