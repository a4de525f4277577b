/**
 * Starts each runtime's real server the way a user does, through the npm
 * script's own command line, on a free loopback port, and watches its output.
 * With TLS_CERT_FILE and TLS_KEY_FILE in its env (see certs.ts) a server
 * speaks HTTPS, and its url says so.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type WatchedProcess, watchProcess } from './process.ts'

export const runtimes = ['workerd', 'node', 'bun', 'deno'] as const
export type RuntimeName = (typeof runtimes)[number]
/** The runtimes with a process of their own to stop, restart or cap: not Workers. */
export const standaloneRuntimes = ['node', 'bun', 'deno'] as const

const root = new URL('../../', import.meta.url)
const scripts: Record<string, string> = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts
const scriptOf: Record<RuntimeName, string> = {
  workerd: 'dev',
  node: 'start:node',
  bun: 'start:bun',
  deno: 'start:deno',
}

/** A runtime's server process and what it printed. */
export interface ServerProcess extends WatchedProcess {
  runtime: RuntimeName
  /** The port it was told to listen on. */
  port: number
  /** Its process id: the runtime's own (the npm script's command is exec'd), or wrangler's for workerd. */
  pid: number
}

export interface RunningServer extends ServerProcess {
  /** Base URL, ending in `/`: `https://127.0.0.1:port/` when the server said it listens on HTTPS. */
  url: string
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/**
 * Spawns `runtime`'s server with `env` (SSE_* settings; Workers get them as
 * `--var`) without waiting for it, on a free port or on `port` (a rolling
 * restart needs the next process where clients reconnect). Workers keep
 * their Durable Objects' storage in `persistTo`, or else in a folder of
 * their own, removed when they exit: no two servers share topics.
 */
export async function spawnServer(
  runtime: RuntimeName,
  env: Record<string, string> = {},
  port?: number,
  persistTo?: string,
): Promise<ServerProcess> {
  port ??= await freePort()
  let command = scripts[scriptOf[runtime]]
  let ownState: string | undefined
  if (runtime === 'workerd') {
    const vars = Object.entries(env).map(([key, value]) => `--var ${key}:${value}`)
    if (persistTo === undefined) persistTo = ownState = mkdtempSync(join(tmpdir(), 'edge-sse-wrangler-'))
    command += ` ${vars.join(' ')} --inspector-port ${await freePort()} --log-level log --persist-to ${persistTo}`
  }
  // exec: the shell becomes the server, so signals and exit codes are the server's own.
  const child = spawn(`exec ${command}`, {
    cwd: root,
    shell: true,
    detached: true, // its own process group, so stop() reaches wrangler's workerd too
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), WRANGLER_SEND_METRICS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const watched = watchProcess(child, runtime)
  if (ownState) watched.exited.then(() => rmSync(ownState, { recursive: true, force: true }))
  return { runtime, port, pid: child.pid as number, ...watched }
}

/** Starts `runtime`'s server (on `port` if given) and resolves once it says it listens. */
export async function startServer(
  runtime: RuntimeName,
  env: Record<string, string> = {},
  port?: number,
  persistTo?: string,
): Promise<RunningServer> {
  const server = await spawnServer(runtime, env, port, persistTo)
  let scheme: string
  try {
    const match = await server.waitForOutput(/(?:listening on|Ready on) (https?):\/\/127\.0\.0\.1:\d+/, 60_000)
    scheme = match[1] as string
  } catch (error) {
    await server.stop()
    throw error
  }
  return { ...server, url: `${scheme}://127.0.0.1:${server.port}/` }
}
