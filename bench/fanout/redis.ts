/**
 * A redis-server for one Redis test: on a free loopback port, in a temp dir,
 * nothing saved (`--save '' --appendonly no`), stopped and its dir removed
 * after. Spawned directly, so its pid is redis-server's own and /proc gives
 * its CPU.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { stopProcess } from '../servers.ts'
import { freePort, waitForPort } from '../system.ts'

export interface RedisServer {
  url: string
  child: ChildProcess
  stop: () => Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  }
  const port = await freePort()
  const dir = mkdtempSync(join(os.tmpdir(), 'edge-sse-bench-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const stop = async () => {
    await stopProcess(child)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForPort(port, child, 10_000)
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `redis://127.0.0.1:${port}`, child, stop }
}
