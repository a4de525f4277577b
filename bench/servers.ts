/**
 * The servers under test, all serving the same stream on GET /events: a
 * `retry:` preamble where the server sends one, then FRAMES frames
 * `data: Message k`, one every INTERVAL_MS, then the end of the response.
 *
 * Every command is the real runtime binary (no npm/npx/shell wrapper), so the
 * spawned pid is the process whose /proc/<pid>/status and stat we read.
 */
import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FRAMES = 5
export const INTERVAL_MS = 1000

export const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string) => `${root}node_modules/.bin/${name}`

/**
 * What a row is, which sets what the report does with it: `edge` is the demo
 * (createApp), `own-events` is edge-sse with a user-style generator, `floor`
 * is the bare runtime serving the same bytes (the baseline of the overhead
 * table), `peer` is another way to serve SSE, for comparison.
 */
export type Kind = 'edge' | 'own-events' | 'floor' | 'peer'

export interface ServerDef {
  name: string
  /** The runtime it runs on: floors are matched to the edge-sse rows of their runtime. */
  runtime: 'node' | 'bun' | 'deno' | 'workerd'
  kind: Kind
  /**
   * HTTP/2 over TLS (TLS_CERT_FILE/TLS_KEY_FILE, a certificate made at run
   * time) with streams multiplexed over sessions; otherwise HTTP/1.1 in clear.
   */
  http2?: boolean
  command: (port: number) => string[]
  /** Builds what the command serves (workerd's bundles), once per run, before any test. */
  build?: () => void
}

/** The command of a script on each runtime: the runtime's binary itself, on a port given by env (or, for workerd, by flag). */
export const node = (script: string) => () => [process.execPath, script]
export const bun = (script: string) => () => [bin('bun'), script]
// Every Deno row gets the flags of `npm run start:deno`, so the runtime is configured alike.
export const deno = (script: string) => () => [
  bin('deno'),
  'run',
  '--unstable-no-legacy-abort',
  '--allow-net',
  '--allow-read',
  '--allow-env',
  script,
]
// workerd itself, not `wrangler dev` (which puts a Node proxy in front of it).
export const workerd = (config: string) => (port: number) => [
  bin('workerd'),
  'serve',
  config,
  '--socket-addr',
  `http=127.0.0.1:${port}`,
]

// Where the demo Worker's Durable Objects keep their storage: a directory per port, emptied at each start.
const OBJECTS_DIR = `${root}bench/.build/objects`

/**
 * workerd serving the demo Worker, whose `TOPICS` Durable Objects store on
 * local disk as under `wrangler dev` (the config's `topic-storage` disk
 * service), in a directory emptied at each start so no run inherits a topic.
 * Not in memory: workerd aborts when an in-memory object sets its alarm (workerd#7191).
 */
export const workerdWithObjects = (config: string) => (port: number) => {
  const dir = `${OBJECTS_DIR}/${port}`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return [...workerd(config)(port), '--directory-path', `topic-storage=${dir}`]
}

/** Report order: the edge-sse rows (each HTTP/2 row after its HTTP/1.1 one), then own-events, floors and peers. */
export const servers: ServerDef[] = [
  { name: 'edge-sse node', runtime: 'node', kind: 'edge', command: node('src/servers/node.ts') },
  { name: 'edge-sse node h2', runtime: 'node', kind: 'edge', http2: true, command: node('src/servers/node.ts') },
  { name: 'edge-sse bun', runtime: 'bun', kind: 'edge', command: bun('src/servers/bun.ts') },
  { name: 'edge-sse bun h2', runtime: 'bun', kind: 'edge', http2: true, command: bun('src/servers/bun.ts') },
  { name: 'edge-sse deno', runtime: 'deno', kind: 'edge', command: deno('src/servers/deno.ts') },
  { name: 'edge-sse deno h2', runtime: 'deno', kind: 'edge', http2: true, command: deno('src/servers/deno.ts') },
  {
    name: 'edge-sse workerd',
    runtime: 'workerd',
    kind: 'edge',
    command: workerdWithObjects('bench/workerd.capnp'),
    build: buildWorker,
  },
  { name: 'own-events node', runtime: 'node', kind: 'own-events', command: node('bench/own-events/node.ts') },
  { name: 'own-events bun', runtime: 'bun', kind: 'own-events', command: bun('bench/own-events/bun.ts') },
  { name: 'own-events deno', runtime: 'deno', kind: 'own-events', command: deno('bench/own-events/deno.ts') },
  {
    name: 'own-events workerd',
    runtime: 'workerd',
    kind: 'own-events',
    command: workerd('bench/own-events/workerd.capnp'),
    build: () => bundle('bench/own-events/worker.ts', 'own-events-worker.js'),
  },
  { name: 'floor node:http', runtime: 'node', kind: 'floor', command: node('bench/floors/node.ts') },
  { name: 'floor Bun.serve', runtime: 'bun', kind: 'floor', command: bun('bench/floors/bun.ts') },
  { name: 'floor Deno.serve', runtime: 'deno', kind: 'floor', command: deno('bench/floors/deno.ts') },
  {
    name: 'floor workerd',
    runtime: 'workerd',
    kind: 'floor',
    command: workerd('bench/floors/workerd.capnp'),
    build: () => bundle('bench/floors/worker.ts', 'floor-worker.js'),
  },
  { name: 'seed node:http', runtime: 'node', kind: 'peer', command: node('bench/peers/seed.ts') },
  { name: 'hono streamSSE node', runtime: 'node', kind: 'peer', command: node('bench/peers/hono-streamsse.ts') },
  { name: 'better-sse node:http', runtime: 'node', kind: 'peer', command: node('bench/peers/better-sse.ts') },
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

/** Bundles src/servers/worker.ts for workerd, as `wrangler deploy` would upload it; drops the last run's object storage. */
export function buildWorker(): void {
  rmSync(OBJECTS_DIR, { recursive: true, force: true })
  const r = spawnSync(bin('wrangler'), ['deploy', '--dry-run', '--outdir', 'bench/.build'], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`wrangler bundle failed:\n${r.stdout}\n${r.stderr}`)
}

/**
 * Bundles a bench Worker (a floor, own-events) to bench/.build/<out> with the
 * repo's pinned esbuild: they have no wrangler.toml of their own, and a plain
 * ES module bundle is what workerd needs.
 */
export function bundle(entry: string, out: string): void {
  const r = spawnSync(
    bin('esbuild'),
    [entry, '--bundle', '--format=esm', '--platform=browser', `--outfile=bench/.build/${out}`, '--log-level=warning'],
    { cwd: root, encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`esbuild bundle of ${entry} failed:\n${r.stdout}\n${r.stderr}`)
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

/**
 * Stops a server: SIGTERM, then SIGKILL if it has not exited after 5 s.
 * Resolves on 'close', not 'exit': Node may emit 'exit' before the pipes are
 * drained, and callers read the server's stderr once it is stopped.
 */
export async function stopProcess(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null
  // 'close' was emitted already once it has exited and every pipe has closed.
  if (exited && child.stdio.every((pipe) => !pipe || pipe.closed)) return
  const closed = new Promise((resolve) => child.once('close', resolve))
  if (exited) return void (await closed)
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await closed
  clearTimeout(timer)
}
