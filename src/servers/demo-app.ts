/**
 * The demo app as this repo builds it, on Workers as on Node, Bun and Deno:
 * one registry for the app's streams and the debug ones (one cap, one
 * shutdown), and the debug routes when they are asked for.
 */
import type { Hono } from 'hono'
import { type AppOptions, createApp } from '../lib/app.ts'
import { StreamRegistry } from '../lib/registry.ts'
import type { Settings } from '../lib/settings.ts'
import { Topics } from '../lib/topics.ts'
import { addDebugRoutes } from './debug.ts'

/** What a server adds to the settings. */
export interface DemoOptions
  extends Pick<AppOptions, 'serveStatic' | 'onStreamEnd' | 'onStreamOpen' | 'topics' | 'publishToken'> {
  /** Serve the debug routes (`SSE_DEBUG=1`). */
  debug: boolean
}

/** The app and the registry of its streams, which a server shuts down. */
export function demoApp(settings: Settings, options: DemoOptions): { app: Hono; streams: StreamRegistry } {
  // The cap belongs to the registry: createApp refuses it in its settings too.
  const { maxStreams, busyRetryMs, ...stream } = settings
  const streams = new StreamRegistry({ maxStreams, busyRetryMs })
  const { debug, ...appOptions } = options
  const topics = options.topics ?? new Topics({ history: settings.topicHistory, historyMs: settings.topicHistoryMs })
  const app = createApp({ ...appOptions, settings: stream, streams, topics })
  if (debug) addDebugRoutes(app, settings, streams, options.onStreamOpen, topics)
  return { app, streams }
}
