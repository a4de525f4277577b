/**
 * Cloudflare Workers entry (wrangler.toml `main`). public/ is served by
 * Workers Static Assets before the Worker runs; settings come from `[vars]`.
 * Topics live in Durable Objects: the `TOPICS` binding of `TopicObject`,
 * which this module exports for the runtime.
 */
import type { Hono } from 'hono'
import { logStreamEnd } from '../lib/app.ts'
import { DurableTopics, TopicObject as LibraryTopicObject } from '../lib/cloudflare.ts'
import { parseSettings, readInteger, readPublishToken, SettingsError } from '../lib/settings.ts'
import { topicLimits } from '../lib/topic-options.ts'
import type { TopicNamespace } from '../lib/topic-protocol.ts'
import type { StreamEnd } from '../lib/types.ts'
import { demoApp } from './demo-app.ts'
import { FLOOD_PATH, WorkerTopics } from './worker-topics.ts'

/** `SSE_DEBUG=1`: the debug routes, in the Worker and in its objects. */
function debugOn(env: Record<string, unknown>): boolean {
  return readInteger(env, { variable: 'SSE_DEBUG', fallback: 0, min: 0, max: 1 }) === 1
}

/**
 * The topics' Durable Object: it logs each stream's end as the Worker's own
 * streams do, and with SSE_DEBUG=1 publishes a flood itself (worker-topics.ts).
 */
export class TopicObject extends LibraryTopicObject {
  readonly #debug: boolean

  constructor(ctx: ConstructorParameters<typeof LibraryTopicObject>[0], env: Record<string, unknown>) {
    super(ctx, env)
    this.#debug = debugOn(env)
  }

  override fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (this.#debug && url.pathname === FLOOD_PATH) return this.#flood(url)
    return super.fetch(request)
  }

  protected override onStreamEnd(end: StreamEnd): void {
    logStreamEnd(end)
  }

  // The object's own publishes, without a round trip each, stored a hundred at a time (as many
  // publishes would be): one write of all 20,000 would hold them all in memory at once.
  async #flood(url: URL): Promise<Response> {
    const data = 'x'.repeat(Number(url.searchParams.get('size')))
    let id = ''
    for (let left = Number(url.searchParams.get('count')); left > 0; await this.ctx.storage.sync()) {
      for (const end = Math.max(left - 100, 0); left > end; left--) id = this.publish({ data })
    }
    return Response.json({ id })
  }
}

// One app per env object: vars are fixed for the life of an isolate.
const apps = new WeakMap<object, Hono>()

function appFor(env: Record<string, unknown>): Hono {
  let app = apps.get(env)
  if (!app) {
    const debug = debugOn(env)
    const settings = parseSettings(env)
    const publishToken = readPublishToken(env)
    const namespace = env.TOPICS as TopicNamespace | undefined
    if (namespace === undefined) {
      throw new SettingsError('TOPICS must be bound to the Durable Object class TopicObject (wrangler.toml)')
    }
    // Every stream of a topic runs in its object, with the settings sent along.
    const limits = topicLimits('TOPICS', { history: settings.topicHistory, historyMs: settings.topicHistoryMs })
    const topics = new WorkerTopics(new DurableTopics(namespace, limits), namespace, limits, debug)
    app = demoApp(settings, { debug, publishToken, topics }).app
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
