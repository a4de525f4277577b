/**
 * Topics shared by every process and machine on one Redis, on Redis Streams:
 * {@link RedisTopics} is a topic store like `Topics`, for `createApp({ topics })`
 * or your own routes. It needs `ioredis` (an optional peer dependency).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { RedisTopics } from 'edge-sse/redis'
 *
 * const topics = new RedisTopics({ redis: new Redis(process.env.REDIS_URL) })
 * app.get('/news', (c) => topics.response(c.req.raw, 'news'))
 * await topics.publish('news', { data: 'hello' }) // every client of every process gets it
 * ```
 *
 * @module
 */

export { RedisTopics, type RedisTopicsOptions } from './redis-topics.ts'
export { TopicUnavailableError } from './topic-unavailable.ts'
