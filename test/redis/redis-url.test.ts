/**
 * A bad REDIS_URL stops Node, Bun and Deno at start with one line naming it
 * and exit code 1: not a redis:// URL, nothing listening there, a wrong
 * password. Never a server whose every publish fails.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import { type RedisServer, startRedis } from '../support/redis-server.ts'
import { freePort, spawnServer, standaloneRuntimes } from '../support/servers.ts'

let redis: RedisServer
let closedPort: number
beforeAll(async () => {
  ;[redis, closedPort] = await Promise.all([startRedis({ password: 'right-password' }), freePort()])
})
afterAll(() => redis?.remove())

const cases: [string, () => string, () => string][] = [
  [
    'not a Redis URL',
    () => 'localhost:6379',
    () => 'REDIS_URL must be a redis:// or rediss:// URL, got "localhost:6379"',
  ],
  [
    'a URL of another scheme, its password not shown',
    () => 'https://user:secret@127.0.0.1/',
    () => 'REDIS_URL must be a redis:// or rediss:// URL, got "https://user:***@127.0.0.1/"',
  ],
  [
    'nothing listening',
    () => `redis://127.0.0.1:${closedPort}`,
    () =>
      `REDIS_URL must reach a Redis server, got "redis://127.0.0.1:${closedPort}" (connect ECONNREFUSED 127.0.0.1:${closedPort})`,
  ],
  [
    'a wrong password',
    () => `redis://:wrong@127.0.0.1:${redis.port}`,
    () =>
      `REDIS_URL must reach a Redis server, got "redis://:***@127.0.0.1:${redis.port}" (WRONGPASS invalid username-password pair or user is disabled.)`,
  ],
]

// Side by side: each start is a process that exits at once.
describe.concurrent.each(standaloneRuntimes)('%s with a bad REDIS_URL', (runtime) => {
  it.for(cases)('refuses to start: %s', async ([, url, line], { expect }) => {
    const server = await spawnServer(runtime, { REDIS_URL: url() })
    expect(await server.exited).toBe(1)
    expect(server.output().trim()).toBe(line())
  })
})
