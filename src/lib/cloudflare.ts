/**
 * Topics on Cloudflare Workers (`edge-sse/cloudflare`): each topic lives in a
 * Durable Object, one per name, which holds its history and its open streams
 * and keeps the history in its storage, so that every client of a topic reads
 * the same events whichever isolate its request reached, and resumes with its
 * id after the object is evicted or restarted. Export {@link TopicObject}
 * from your Worker, bind it, and publish and subscribe through
 * {@link DurableTopics}, a `TopicStore` like `Topics`.
 *
 * @example
 * ```ts
 * // worker.ts; wrangler.toml binds TOPICS to TopicObject (see the README)
 * import { DurableTopics } from 'edge-sse/cloudflare'
 * export { TopicObject } from 'edge-sse/cloudflare'
 *
 * export default {
 *   async fetch(request: Request, env: { TOPICS: DurableObjectNamespace }) {
 *     const topics = new DurableTopics(env.TOPICS)
 *     if (request.method === 'POST') {
 *       return Response.json({ id: await topics.publish('news', { data: await request.text() }) })
 *     }
 *     return topics.response(request, 'news')
 *   },
 * }
 * ```
 *
 * @module
 */
export { DurableTopics } from './durable-topics.ts'
export { TopicObject } from './topic-object.ts'
export type { TopicNamespace, TopicStub } from './topic-protocol.ts'
