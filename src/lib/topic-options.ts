/**
 * How much a topic holds and remembers: the options every store takes (in
 * memory, Redis, Durable Objects), checked the same way.
 */

/** Options of every topic store; every field is optional. */
export interface TopicsOptions {
  /** Events held per topic, for clients that resume and for `last`. Default 100. */
  history?: number
  /**
   * Milliseconds an event is held at most; `0` holds by count only (a topic
   * that held an event then stays for good). Default 3600000 (an hour).
   */
  historyMs?: number
  /** Milliseconds an idempotency key is remembered (at most 10,000 per topic). Default 300000 (5 minutes). */
  idempotencyMs?: number
}

/** {@link TopicsOptions} with every field checked and set. */
export type TopicLimits = Required<TopicsOptions>

/** The longest duration a topic option takes: what a timer can wait (2^31 − 1 ms, about 24.8 days). */
export const MAX_MS = 2 ** 31 - 1

/** An integer option from `min` to `max`, or a `TypeError` naming `owner` and `name`. */
export function checkInteger(owner: string, name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`${owner}: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/** The options with their defaults; throws a `TypeError` naming `owner` for one out of range. */
export function topicLimits(owner: string, options: TopicsOptions = {}): TopicLimits {
  return {
    history: checkInteger(owner, 'history', options.history ?? 100, 1, 1_000_000),
    historyMs: checkInteger(owner, 'historyMs', options.historyMs ?? 3_600_000, 0, MAX_MS),
    idempotencyMs: checkInteger(owner, 'idempotencyMs', options.idempotencyMs ?? 300_000, 0, MAX_MS),
  }
}

/**
 * A stream's `keepAliveMs` (default 15000), checked here when the stream
 * itself will not see it: a topic keeps its streams alive with one timer.
 */
export function checkKeepAlive(owner: string, keepAliveMs = 15_000): number {
  return checkInteger(owner, 'keepAliveMs', keepAliveMs, 0, MAX_MS)
}
