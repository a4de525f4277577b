/**
 * How the Redis store talks to an ioredis client: a command is sent only
 * while the connection is ready, and never waited for longer than a deadline,
 * so that a publish fails fast while Redis is away and a half-open connection
 * cannot hang it. Every failure becomes a `TopicUnavailableError`.
 */
import type { Redis } from 'ioredis'
import { TopicUnavailableError } from './topic-unavailable.ts'

/** The longest wait between two attempts to reconnect. */
const RECONNECT_MAX_MS = 2000

/**
 * ioredis's `retryStrategy` for the connections of a Redis store: 100 ms
 * before the first attempt again, doubling, at most 2 s, so that a Redis
 * that comes back is found within 2 s without a storm of attempts meanwhile.
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 5), RECONNECT_MAX_MS)
}

/** Rejects at once with a `TopicUnavailableError` unless `redis` is connected. */
export function checkReady(redis: Redis): void {
  if (redis.status !== 'ready') {
    throw new TopicUnavailableError(`Redis is not connected (client status: ${redis.status})`)
  }
}

/**
 * Resolves once `redis` is ready, or can no longer become so by itself (it
 * was closed, or it connects only when told to), or `signal` aborts.
 */
export function whenReady(redis: Redis, signal: AbortSignal): Promise<void> {
  if (['ready', 'wait', 'end'].includes(redis.status) || signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      redis.off('ready', done)
      redis.off('end', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    redis.on('ready', done)
    redis.on('end', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * Sends a command with `send` if `redis` is ready, and settles within
 * `timeoutMs`: Redis's own errors and a missing answer both reject with a
 * `TopicUnavailableError` saying `what` failed.
 */
export function command<T>(redis: Redis, what: string, timeoutMs: number, send: () => Promise<T>): Promise<T> {
  try {
    checkReady(redis)
  } catch (error) {
    return Promise.reject(error)
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TopicUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  const sent = send().catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error)
    throw new TopicUnavailableError(`Redis failed ${what}: ${reason}`, { cause: error })
  })
  return Promise.race([sent, timeout]).finally(() => clearTimeout(timer))
}
