/**
 * The rows of the fan-out bench: servers that take subscribers of one topic
 * on GET and publishes on POST (the body is the data), so one load generator
 * and one publisher measure them all the same way.
 *
 * - edge-sse: the demo (src/servers/) on `/topics/fanout`, publishing with
 *   the token; on workerd the topic is a Durable Object, as the demo Worker
 *   keeps it (fanout/workerd.capnp);
 * - floor: the bare runtime delivering the same bytes to every open response
 *   (bench/fanout-floors/);
 * - peer: better-sse's `Channel.broadcast` (bench/peers/better-sse-channel.ts).
 */
import { HISTORY } from '../fanout-floors/frames.ts'
import {
  buildWorker,
  bun,
  bundle,
  deno,
  node,
  type ServerDef,
  serverEnv,
  workerd,
  workerdWithObjects,
} from '../servers.ts'

/** The token the edge-sse servers are given (fanout/workerd.capnp has it too). */
export const PUBLISH_TOKEN = 'fanout-bench-publish-token'

/** The topic every row serves; the floors and the peer answer any path. */
export const TOPIC_PATH = '/topics/fanout'

export interface FanoutDef extends Omit<ServerDef, 'kind' | 'http2'> {
  kind: 'edge' | 'floor' | 'peer'
  /** What the row's name does not say. */
  note?: string
}

/** Report order: each runtime's edge-sse row, then the floors, then the peer. */
export const fanoutServers: FanoutDef[] = [
  { name: 'edge-sse node', runtime: 'node', kind: 'edge', command: node('src/servers/node.ts') },
  { name: 'edge-sse bun', runtime: 'bun', kind: 'edge', command: bun('src/servers/bun.ts') },
  { name: 'edge-sse deno', runtime: 'deno', kind: 'edge', command: deno('src/servers/deno.ts') },
  {
    name: 'edge-sse workerd DO',
    runtime: 'workerd',
    kind: 'edge',
    command: workerdWithObjects('bench/fanout/workerd.capnp'),
    build: buildWorker,
    note: "the topic in a Durable Object (the demo Worker's TopicObject, storing in SQLite on local disk as under wrangler dev), each subscriber a request from the Worker to it",
  },
  { name: 'floor node:http', runtime: 'node', kind: 'floor', command: node('bench/fanout-floors/node.ts') },
  { name: 'floor Bun.serve', runtime: 'bun', kind: 'floor', command: bun('bench/fanout-floors/bun.ts') },
  { name: 'floor Deno.serve', runtime: 'deno', kind: 'floor', command: deno('bench/fanout-floors/deno.ts') },
  {
    name: 'floor workerd',
    runtime: 'workerd',
    kind: 'floor',
    command: workerd('bench/fanout-floors/workerd.capnp'),
    build: () => bundle('bench/fanout-floors/worker.ts', 'fanout-floor-worker.js'),
  },
  {
    name: 'better-sse Channel node',
    runtime: 'node',
    kind: 'peer',
    command: node('bench/peers/better-sse-channel.ts'),
  },
]

/** Environment of a fan-out server: the bench's, plus the publish token and the history. */
export function fanoutEnv(port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...serverEnv(port), SSE_PUBLISH_TOKEN: PUBLISH_TOKEN, SSE_TOPIC_HISTORY: String(HISTORY), ...extra }
}
