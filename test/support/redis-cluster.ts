/**
 * A cluster as a user runs one: a Node, a Bun and a Deno server on one Redis
 * (REDIS_URL), and the demo's /topics/:name over HTTP against any of them:
 * publish with the token, subscribe as EventSource does.
 */
import { expect } from 'vitest'
import { type RedisServer, startRedis } from './redis-server.ts'
import { type RunningServer, standaloneRuntimes, startServer } from './servers.ts'
import { EventStreamReader } from './sse-client.ts'

export const TOKEN = 'cluster-test-token-0123'

/** One server of the cluster, and the name of its connections in Redis's CLIENT LIST. */
export interface Instance extends RunningServer {
  /** `edge-sse:<pid>`, as the server says at start; its reading connection adds `:reader`. */
  client: string
}

export interface Cluster {
  redis: RedisServer
  /** Node, Bun and Deno, in that order. */
  instances: Instance[]
  /** Stops the servers that still run, then Redis. */
  stop(): Promise<void>
}

/** Starts Redis, then the three servers on it with `env` added to theirs. */
export async function startCluster(env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedis()
  const instances = await Promise.all(
    standaloneRuntimes.map(async (runtime) => {
      const server = await startServer(runtime, {
        REDIS_URL: redis.url,
        SSE_PUBLISH_TOKEN: TOKEN,
        SSE_LOG: '0',
        ...env,
      })
      const [, client] = server.output().match(/"msg":"topics in redis".*"client":"([^"]+)"/) ?? []
      return { ...server, client: client as string }
    }),
  )
  return {
    redis,
    instances,
    stop: async () => {
      await Promise.all(instances.map((instance) => instance.stop()))
      await redis.remove()
    },
  }
}

/** `POST /topics/<name>` on `server` with the token; `headers` add to or replace the defaults. */
export function publish(server: RunningServer, name: string, data: string, headers: Record<string, string> = {}) {
  return fetch(new URL(`topics/${name}`, server.url), {
    method: 'POST',
    body: data,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/plain', ...headers },
  })
}

/** Publishes on `server`, expects 201, and resolves to the event's id. */
export async function publishOk(server: RunningServer, name: string, data: string, headers = {}): Promise<string> {
  const res = await publish(server, name, data, headers)
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

/** A client of topic `name` on `server`, as EventSource, and how it leaves. */
export interface TopicClient {
  reader: EventStreamReader
  close(): void
}

/**
 * Subscribes to `name` on `server` with `lastEventId` if given, and resolves
 * once its opening is read: the retry field, and for a client without an id
 * the position frame, after which it gets every event published.
 */
export async function subscribe(server: RunningServer, name: string, lastEventId?: string): Promise<TopicClient> {
  const abort = new AbortController()
  const headers: Record<string, string> = lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }
  const res = await fetch(new URL(`topics/${name}`, server.url), { headers, signal: abort.signal })
  expect(res.status).toBe(200)
  const reader = new EventStreamReader(res.body as ReadableStream<Uint8Array>, lastEventId)
  while (lastEventId === undefined ? reader.lastEventId === '' : reader.chunks.length === 0) await reader.readChunk()
  return { reader, close: () => abort.abort() }
}
