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
import type { TopicNamespace } from '../lib/topic-protocol.ts'
import type { StreamEnd } from '../lib/types.ts'
import { demoApp } from './demo-app.ts'
import { WorkerTopics } from './worker-topics.ts'

/** The topics' Durable Object, logging each stream's end as the Worker's own streams do. */
export class TopicObject extends LibraryTopicObject {
  protected override onStreamEnd(end: StreamEnd): void {
    logStreamEnd(end)
  }
}

// One app per env object: vars are fixed for the life of an isolate.
const apps = new WeakMap<object, Hono>()

function appFor(env: Record<string, unknown>): Hono {
  let app = apps.get(env)
  if (!app) {
    const debug = readInteger(env, { variable: 'SSE_DEBUG', fallback: 0, min: 0, max: 1 }) === 1
    const settings = parseSettings(env)
    const publishToken = readPublishToken(env)
    const namespace = env.TOPICS as TopicNamespace | undefined
    if (namespace === undefined) {
      throw new SettingsError('TOPICS must be bound to the Durable Object class TopicObject (wrangler.toml)')
    }
    // Every stream of a topic runs in its object, with the settings sent along.
    const durable = new DurableTopics(namespace, { history: settings.topicHistory, historyMs: settings.topicHistoryMs })
    const topics = new WorkerTopics(durable, namespace, debug)
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
