/**
 * The servers under test, all serving the same stream on GET /events: a
 * `retry:` preamble where the server sends one, then FRAMES frames
 * `data: Message k`, one every INTERVAL_MS, then the end of the response.
 *
 * Every command is the real runtime binary (no npm/npx/shell wrapper), so the
 * spawned pid is the process whose /proc/<pid>/status and stat we read.
 */
import { type ChildProcess, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const FRAMES = 5
export const INTERVAL_MS = 1000

export const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string) => `${root}node_modules/.bin/${name}`

export interface ServerDef {
  name: string
  /** Which goals apply: only edge-sse is held to them, the peers are for comparison. */
  runtime: 'node' | 'bun' | 'deno' | 'workerd'
  edge: boolean
  command: (port: number) => string[]
}

const node = (script: string) => (_port: number) => [process.execPath, script]

export const servers: ServerDef[] = [
  { name: 'edge-sse node', runtime: 'node', edge: true, command: node('src/servers/node.ts') },
  { name: 'edge-sse bun', runtime: 'bun', edge: true, command: () => [bin('bun'), 'src/servers/bun.ts'] },
  {
    name: 'edge-sse deno',
    runtime: 'deno',
    edge: true,
    command: () => [
      bin('deno'),
      'run',
      '--unstable-no-legacy-abort',
      '--allow-net',
      '--allow-read',
      '--allow-env',
      'src/servers/deno.ts',
    ],
  },
  {
    // workerd itself, not `wrangler dev` (which puts a Node proxy in front of it).
    name: 'edge-sse workerd',
    runtime: 'workerd',
    edge: true,
    command: (port) => [bin('workerd'), 'serve', 'bench/workerd.capnp', '--socket-addr', `http=127.0.0.1:${port}`],
  },
  { name: 'seed node:http', runtime: 'node', edge: false, command: node('bench/peers/seed.ts') },
  { name: 'hono streamSSE node', runtime: 'node', edge: false, command: node('bench/peers/hono-streamsse.ts') },
  { name: 'better-sse node:http', runtime: 'node', edge: false, command: node('bench/peers/better-sse.ts') },
]

/** Environment for every server; SSE_LOG=0 silences the per-stream log line. */
export function serverEnv(port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SSE_FRAMES: String(FRAMES),
    SSE_INTERVAL_MS: String(INTERVAL_MS),
    SSE_LOG: '0',
  }
}

/** Bundles src/servers/worker.ts for workerd, as `wrangler deploy` would upload it. */
export function buildWorker(): void {
  const r = spawnSync(bin('wrangler'), ['deploy', '--dry-run', '--outdir', 'bench/.build'], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`wrangler bundle failed:\n${r.stdout}\n${r.stderr}`)
}

/** Version strings for the report. */
export function versions(): Record<string, string> {
  const v = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '?'
  return {
    node: process.version,
    bun: v(bin('bun'), ['--version']),
    deno: v(bin('deno'), ['--version']),
    workerd: v(bin('workerd'), ['--version']),
  }
}

/** Stops a server: SIGTERM, then SIGKILL if it has not exited after 5 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
