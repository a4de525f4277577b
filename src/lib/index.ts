/**
 * Server-Sent Events on Web Streams and Hono, the same on Cloudflare Workers,
 * Deno, Bun and Node: {@link eventStreamResponse} answers one request with a
 * pull-based stream of your events (resumable from `Last-Event-ID`, stopped
 * at once when the client leaves), and {@link createApp} is a ready Hono app
 * to mount.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { createApp, eventStreamResponse } from 'edge-sse'
 *
 * const app = new Hono()
 * app.route('/sse', createApp()) // GET /sse/events: Message 1 … Message 5
 * app.get('/hello', (c) =>
 *   eventStreamResponse(c.req.raw, async function* () {
 *     yield { event: 'greeting', id: '1', data: JSON.stringify({ hello: 'world' }) }
 *   }),
 * )
 * ```
 *
 * @module
 */
export { type AppOptions, createApp } from './app.ts'
export { encodeComment, encodeEvent, type ServerSentEvent } from './encoder.ts'
export { createEventStream } from './event-stream.ts'
export type { GapInfo, GapReason } from './gap.ts'
export { GAP_EVENT } from './gap.ts'
export { lastEventId } from './last-event-id.ts'
export { StreamRegistry, type StreamRegistryOptions } from './registry.ts'
export { eventStreamResponse } from './response.ts'
export { defaultSettings, parseSettings, readPublishToken, type Settings, SettingsError } from './settings.ts'
export { pendingTimers } from './timers.ts'
export type { PublishOptions, TopicEvent } from './topic-event.ts'
export type { TopicsOptions } from './topic-options.ts'
export { TopicUnavailableError } from './topic-unavailable.ts'
export { Topics } from './topics.ts'
export type * from './types.ts'
