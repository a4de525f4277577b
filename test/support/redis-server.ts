/**
 * A real redis-server for the tests (Debian's package; .ci/run installs it):
 * on a free loopback port, with its data in a temporary folder, append-only
 * persistence on so that a restart keeps the data, and stopped and removed
 * afterwards. A test can stop it and start it again on the same port, with
 * its data or without (Redis restarted without persistence: every stream
 * lost).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { type WatchedProcess, watchProcess } from './process.ts'
import { freePort } from './servers.ts'

export interface RedisServer {
  port: number
  /** `redis://127.0.0.1:<port>`, with the password if there is one. */
  url: string
  /** A client for the test's own commands (`CLIENT LIST`, `XLEN`), closed by {@link remove}. */
  admin: Redis
  /** SIGTERM, once it has exited (it writes its append-only file first). */
  stop(): Promise<void>
  /** Starts again on the same port; `keepData: false` deletes the data first. Resolves once it accepts connections. */
  start(options?: { keepData?: boolean }): Promise<void>
  /** Stops it, closes the admin client and deletes its folder. */
  remove(): Promise<void>
}

const installed = spawnSync('redis-server', ['--version']).status === 0

/** Starts a redis-server; `password` turns on `requirepass`. */
export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  if (!installed)
    throw new Error('redis-server not found; install it with: apt-get update && apt-get install -y redis-server')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'edge-sse-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes']
  if (options.password) args.push('--requirepass', options.password)
  let server: WatchedProcess | undefined

  const start = async ({ keepData = true } = {}) => {
    if (!keepData) for (const file of readdirSync(dir)) rmSync(join(dir, file), { recursive: true, force: true })
    const child = spawn('redis-server', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    server = watchProcess(child, 'redis-server')
    await server.waitForOutput(/Ready to accept connections/, 10_000)
  }
  const stop = async () => {
    await server?.stop()
  }
  await start()
  const auth = options.password ? `:${options.password}@` : ''
  const url = `redis://${auth}127.0.0.1:${port}`
  const admin = new Redis(url, { connectionName: 'test-admin' })
  admin.on('error', () => {}) // it reconnects by itself across restarts
  return {
    port,
    url,
    admin,
    stop,
    start,
    remove: async () => {
      admin.disconnect()
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The names of the clients connected to `redis` now (`CLIENT LIST`), one per connection. */
export async function clientNames(redis: Redis): Promise<string[]> {
  const list = (await redis.client('LIST')) as string
  return list
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
}
