/**
 * What each fan-out and Redis row runs: which server processes, where the
 * subscribers go and where the publisher posts.
 */
import type { FanoutPlan } from './run.ts'
import type { FanoutDef } from './servers.ts'

/** A fan-out row: `subscribers` on one server, which takes the publishes too. */
export function fanoutPlan(def: FanoutDef, subscribers: number): FanoutPlan {
  return {
    suite: 'fanout',
    row: def.name,
    runtime: def.runtime,
    kind: def.kind,
    servers: [{ name: 'server', def }],
    redis: false,
    groups: [{ server: 'server', n: subscribers }],
    publishTo: 'server',
  }
}

/**
 * The Redis row of an edge-sse server and the row beside it: two servers
 * with half the subscribers each and a third taking the publishes, sharing
 * the topic through one redis-server; and the same two client groups on one
 * server's in-process topic, so the difference is what crossing processes costs.
 */
export function redisPlans(def: FanoutDef, subscribers: number): [redis: FanoutPlan, inProcess: FanoutPlan] {
  const half = subscribers / 2
  return [
    {
      suite: 'redis',
      row: `${def.name} via Redis`,
      runtime: def.runtime,
      kind: def.kind,
      servers: ['A', 'B', 'C'].map((name) => ({ name, def, redis: true })),
      redis: true,
      groups: [
        { server: 'A', n: Math.ceil(half) },
        { server: 'B', n: Math.floor(half) },
      ],
      publishTo: 'C',
    },
    {
      suite: 'redis',
      row: `${def.name} in-process`,
      runtime: def.runtime,
      kind: def.kind,
      servers: [{ name: 'server', def }],
      redis: false,
      groups: [
        { server: 'server', n: Math.ceil(half) },
        { server: 'server', n: Math.floor(half) },
      ],
      publishTo: 'server',
    },
  ]
}
