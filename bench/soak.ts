/**
 * Soak: `npm run soak [-- --cycles 10000 --warmup 10000 --concurrency 50 --runtimes node,bun,deno
 * --max-minutes 4 --settle-s 5]`.
 *
 * Checks that clients who leave leave nothing behind, on two paths: the
 * demo's /events (the library's own iterator) and /debug/source, a user-style
 * async generator with a signal-aware sleep (the own-events path). For each
 * runtime it starts the real server (the start:* npm script's command line,
 * run as the runtime binary itself so the pid is the server's) with
 * SSE_DEBUG=1, runs a warm-up of connect-then-abort cycles over both paths,
 * lets the server settle and records its RSS, then soaks each path in turn
 * and checks after each that:
 *   - GET /debug/streams says `open` 0, `timers` 0 and `sources` 0 (every
 *     generator's finally ran);
 *   - RSS is within 10% of its level before that path's soak, both read after
 *     a full GC forced through the runtime's inspector (loopback only): an
 *     idle V8 never collects, so idle RSS would count garbage as held memory
 *     (it is reported too);
 *   - every stream the server started logged one "stream end" line, reason
 *     "cancelled" (a cross-check that aborts are seen as such).
 * A script, not a test: its figures go to bench/results/soak-<stamp>.json and
 * bench/results/soak-latest.md, for bench/RESULTS.md; a run shorter than the
 * defaults writes soak-<stamp>-quick.json and soak-latest-quick.md (ignored
 * by git) instead, so a smoke run never replaces the record.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import process from 'node:process'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { stopProcess } from './servers.ts'

const root = new URL('..', import.meta.url)
const rootPath = fileURLToPath(root)

// Cycles per path, and warm-up cycles (shared by the paths). The warm-up is as
// long as a soak: RSS steps up once over the first ~10,000 cycles while the
// allocators grow to their working size, then stays flat. Measured after
// 1,000, that step alone reads as +6 to +11 %; a leak keeps growing.
const FULL = { cycles: 10_000, warmup: 10_000, runtimes: 'node,bun,deno' }

const { values: opts } = parseArgs({
  options: {
    cycles: { type: 'string', default: String(FULL.cycles) },
    warmup: { type: 'string', default: String(FULL.warmup) },
    concurrency: { type: 'string', default: '50' },
    runtimes: { type: 'string', default: FULL.runtimes },
    'max-minutes': { type: 'string', default: '4' },
    'settle-s': { type: 'string', default: '5' },
  },
})
const CYCLES = Number(opts.cycles)
const WARMUP = Number(opts.warmup)
const CONCURRENCY = Number(opts.concurrency)
const RUNTIMES = String(opts.runtimes).split(',') as Runtime[]
const MAX_MS = Number(opts['max-minutes']) * 60_000
const SETTLE_MS = Number(opts['settle-s']) * 1000
const RSS_TOLERANCE = 0.1
for (const [name, value] of Object.entries({ CYCLES, WARMUP, CONCURRENCY, MAX_MS, SETTLE_MS })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`soak: ${name} must be a positive integer`)
}
if (!RUNTIMES.every((r) => ['node', 'bun', 'deno'].includes(r))) throw new Error('soak: runtimes are node, bun, deno')
// Less than the full soak on every runtime is a smoke run, not the record.
const QUICK = CYCLES < FULL.cycles || WARMUP < FULL.warmup || RUNTIMES.length < FULL.runtimes.split(',').length
// Short frames so the "after frame 1" abort is quick; many frames so no stream
// completes on its own: every end must then be "cancelled".
const INTERVAL_MS = 50
const FRAMES = 100_000
/** The soaked paths, in this order: the demo's stream, then a user-style async generator (debug.ts). */
const PATHS = ['/events', `/debug/source?events=${FRAMES}&interval=${INTERVAL_MS}`]
// A cycle that has not reached its abort point by then counts as failed.
const CYCLE_TIMEOUT_MS = 5000
// Left in a runtime's time for each measurement still to come: the settle
// check (up to 20 s), the RSS samples before and after GC, the GC itself (up
// to 10 s).
const MEASURE_MS = 2 * SETTLE_MS + 10_000
const RESERVE_MS = 20_000 + MEASURE_MS

type Runtime = 'node' | 'bun' | 'deno'

/**
 * Where a cycle aborts: right after sending the request (the stream may not
 * exist yet: no timer), after the `retry:` field (the first frame's timer is
 * pending), after frame 1 (a timer fired and the next one is armed). Every
 * other round of the three closes with RST instead of FIN.
 */
const ABORTS = ['sent', 'retry', 'frame'] as const
type Abort = (typeof ABORTS)[number]

interface Tally {
  done: number
  ok: number
  failures: Record<string, number>
  /** Cycles that saw the `retry:` field: the server surely created their stream. */
  confirmed: number
  byAbort: Record<Abort, number>
}

interface Debug {
  open: number
  timers: number
  /** User-style sources (/debug/source) started whose finally has not run. */
  sources: number
}

type Memory = Awaited<ReturnType<typeof measureMemory>>

/** One path's soak, measured against the server's state just before it. */
interface PathResult {
  path: string
  soak: Tally
  /** Soak cycles not started because the time ran out. */
  timedOut: boolean
  /** "stream end" lines counted during this soak, by reason. */
  ends: Record<string, number>
  debugAfter: Debug | null
  /** ms until /debug/streams said all 0 after the soak, or null if it never did. */
  settleMs: number | null
  /** RSS before and after this soak, each once idle and once after a forced GC. */
  memoryBefore: Memory
  memoryAfter: Memory
  /** Change of the forced-GC RSS: the criterion. */
  rssChangePct: number
  /** Change of the idle RSS, for comparison. */
  idleChangePct: number
  /** VmHWM during this soak (reset before it). */
  peakKiB: number
  seconds: number
  pass: { cycles: boolean; open: boolean; timers: boolean; sources: boolean; rss: boolean; ends: boolean }
}

interface RuntimeResult {
  runtime: Runtime
  command: string[]
  pid: number
  /** The shared warm-up, over every path. */
  warmup: Tally
  endsWarmup: Record<string, number>
  debugAfterWarmup: Debug | null
  paths: PathResult[]
  seconds: number
  stderr: string
  otherOutput: string[]
}

// --- server process ---

const scripts: Record<string, string> = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts

/**
 * The start:* script's command, its first word resolved to the binary itself
 * (no npm or shell in between), plus the runtime's inspector on a free
 * loopback port, put before the script path: the soak uses it only to force a
 * full GC before reading RSS.
 */
function commandOf(runtime: Runtime): string[] {
  const [bin = '', ...rest] = scripts[`start:${runtime}`]?.split(/\s+/) ?? []
  const script = rest.findIndex((word) => word.endsWith('.ts'))
  rest.splice(script, 0, '--inspect=127.0.0.1:0')
  return [bin === 'node' ? process.execPath : `${rootPath}node_modules/.bin/${bin}`, ...rest]
}

interface Server {
  child: ChildProcess
  port: number
  ends: Record<string, number>
  other: string[]
  stderr: () => string
  /** The inspector's WebSocket URL, from the banner on stderr. */
  inspector: () => string | undefined
}

const children = new Set<ChildProcess>()

/** Starts the server on a free port (PORT=0) and resolves with the port it prints. */
function startServer(argv: string[]): Promise<Server> {
  const [bin = '', ...args] = argv
  const child = spawn(bin, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SSE_DEBUG: '1',
      // The stream-end lines are the cross-check: on even if the caller's environment turns them off.
      SSE_LOG: '1',
      SSE_INTERVAL_MS: String(INTERVAL_MS),
      SSE_FRAMES: String(FRAMES),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  const ends: Record<string, number> = {}
  const other: string[] = []
  let stderr = ''
  let inspector: string | undefined
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000)
    inspector ??= stderr.match(/ws:\/\/127\.0\.0\.1:\d+\/\S+/)?.[0]
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s: ${stderr}`)), 30_000)
    // 'close', not 'exit': only then is stderr drained, so the error carries its last lines.
    child.once('close', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)))
    // Drained line by line for the whole run: a full pipe would block the server's log writes.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const listening = line.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//)
      if (listening) {
        clearTimeout(timer)
        resolve({ child, port: Number(listening[1]), ends, other, stderr: () => stderr, inspector: () => inspector })
        return
      }
      try {
        const entry = JSON.parse(line) as { msg?: string; reason?: string }
        if (entry.msg === 'stream end') {
          const reason = entry.reason ?? '?'
          ends[reason] = (ends[reason] ?? 0) + 1
          return
        }
      } catch {
        // Not JSON: kept below.
      }
      if (other.length < 20) other.push(line)
    })
  })
}

// --- measurements ---

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  return Number(m?.[1] ?? 0)
}

async function debugStreams(port: number): Promise<Debug | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/debug/streams`, { signal: AbortSignal.timeout(2000) })
    return (await r.json()) as Debug
  } catch {
    return null
  }
}

/** Polls /debug/streams until open, timers and sources are all 0, for at most `timeoutMs`. */
async function waitSettled(port: number, timeoutMs: number): Promise<{ debug: Debug | null; ms: number | null }> {
  const start = Date.now()
  let debug: Debug | null = null
  while (Date.now() - start < timeoutMs) {
    debug = await debugStreams(port)
    if (debug?.open === 0 && debug.timers === 0 && debug.sources === 0) return { debug, ms: Date.now() - start }
    await sleep(100)
  }
  return { debug, ms: null }
}

/** RSS samples over `ms` of idle; the minimum is the level, since RSS lags behind GC. */
async function sampleRss(pid: number, ms: number): Promise<number[]> {
  const samples: number[] = []
  for (let t = 0; t < ms; t += 250) {
    samples.push(status(pid, 'VmRSS'))
    await sleep(250)
  }
  return samples
}

/**
 * Forces a full GC in the server over its inspector and returns the JS heap in
 * use afterwards (bytes), or null. Without it an idle server keeps the soak's
 * garbage: V8 collects only when something allocates, so idle RSS measures
 * garbage not yet collected as much as memory held.
 */
async function collectGarbage(url: string | undefined, runtime: Runtime): Promise<number | null> {
  if (!url) return null
  const ws = new WebSocket(url)
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    let id = 0
    const call = (method: string, params: object = {}) =>
      new Promise<{ result?: { value?: unknown } }>((resolve) => {
        const mine = ++id
        ws.addEventListener('message', (event) => {
          const reply = JSON.parse(String(event.data))
          if (reply.id === mine) resolve(reply.result ?? {})
        })
        ws.send(JSON.stringify({ id: mine, method, params }))
      })
    // Bun speaks WebKit's inspector protocol, Node and Deno V8's. Twice: the
    // first pass runs finalizers that free more on the second.
    const gc = runtime === 'bun' ? 'Heap.gc' : 'HeapProfiler.collectGarbage'
    await call(gc)
    await call(gc)
    const used = await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true })
    return typeof used.result?.value === 'number' ? used.result.value : null
  } catch {
    return null
  } finally {
    ws.close()
  }
}

/** Idle RSS samples, then a forced GC, then RSS samples again. */
async function measureMemory(server: Server, runtime: Runtime) {
  const pid = server.child.pid as number
  const idle = await sampleRss(pid, SETTLE_MS)
  const heapUsed = await withTimeout(collectGarbage(server.inspector(), runtime), 10_000)
  const collected = await sampleRss(pid, SETTLE_MS)
  return { idleKiB: Math.min(...idle), gcKiB: Math.min(...collected), heapUsed, idle, collected }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([promise, sleep(ms, null, { ref: false })])
}

// --- the client ---

type Outcome = { ok: true; confirmed: boolean } | { ok: false; failure: string }

/** One connect-then-abort cycle over a raw socket, so nothing (agent, pool) keeps the connection. */
function cycle(port: number, path: string, abort: Abort, reset: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let received = ''
    let settled = false
    const socket = net.connect({ host: '127.0.0.1', port })
    const finish = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (reset) socket.resetAndDestroy()
      else socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({ ok: false, failure: `timeout before ${abort}` }), CYCLE_TIMEOUT_MS)
    socket.on('connect', () => {
      const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`
      // The callback runs once the request is in the kernel, so the server may see it.
      socket.write(request, () => {
        if (abort === 'sent') finish({ ok: true, confirmed: false })
      })
    })
    socket.on('data', (chunk: Buffer) => {
      // The head and the first frames are all that matter; chunk-size lines in between do not hurt.
      if (received.length < 4096) received += chunk.toString('latin1')
      if (!received.startsWith('HTTP/1.1 200')) {
        if (received.includes('\r\n')) finish({ ok: false, failure: received.slice(0, received.indexOf('\r\n')) })
        return
      }
      const body = received.slice(received.indexOf('\r\n\r\n') + 4)
      const retry = body.includes('retry:')
      if (abort === 'retry' && retry) finish({ ok: true, confirmed: true })
      if (abort === 'frame' && body.includes('data:')) finish({ ok: true, confirmed: true })
      if (abort === 'sent' && retry) finish({ ok: true, confirmed: true })
    })
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, failure: `error ${error.code}` }))
    socket.on('close', () => finish({ ok: false, failure: `closed before ${abort}` }))
  })
}

/**
 * Runs `count` cycles, `CONCURRENCY` at a time, over `paths` in turn, stopping
 * early at `until` or if the server dies. Every abort point, with FIN and with
 * RST, comes round on every path.
 */
async function runCycles(server: Server, paths: string[], count: number, until: number, label: string): Promise<Tally> {
  const tally: Tally = { done: 0, ok: 0, failures: {}, confirmed: 0, byAbort: { sent: 0, retry: 0, frame: 0 } }
  let next = 0
  const alive = () => server.child.exitCode === null && server.child.signalCode === null
  const worker = async () => {
    while (next < count && Date.now() < until && alive()) {
      const i = next++
      const round = Math.floor(i / paths.length)
      const abort = ABORTS[round % ABORTS.length] as Abort
      const reset = Math.floor(round / ABORTS.length) % 2 === 1
      const outcome = await cycle(server.port, paths[i % paths.length] as string, abort, reset)
      tally.done++
      tally.byAbort[abort]++
      if (outcome.ok) {
        tally.ok++
        if (outcome.confirmed) tally.confirmed++
      } else {
        tally.failures[outcome.failure] = (tally.failures[outcome.failure] ?? 0) + 1
      }
      if (tally.done % 2000 === 0)
        console.error(`  ${label}: ${tally.done}/${count} cycles, ${tally.done - tally.ok} failed`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return tally
}

// --- one runtime ---

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)
const minus = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]))

async function soakRuntime(runtime: Runtime): Promise<RuntimeResult> {
  const started = Date.now()
  const deadline = started + MAX_MS
  // Each cycle loop stops in time for the measurements still to come.
  const until = (measurementsLeft: number) => deadline - RESERVE_MS * measurementsLeft
  const command = commandOf(runtime)
  console.error(`${runtime}: ${command.join(' ')}`)
  const server = await startServer(command)
  const pid = server.child.pid as number
  try {
    const warmup = await runCycles(server, PATHS, WARMUP, until(PATHS.length + 1), `${runtime} warm-up`)
    const afterWarmup = await waitSettled(server.port, 20_000)
    const endsWarmup = { ...server.ends }
    let memoryBefore = await measureMemory(server, runtime)
    const paths: PathResult[] = []
    for (const [i, path] of PATHS.entries()) {
      const pathStarted = Date.now()
      const endsBefore = { ...server.ends }
      // VmHWM from here on is this soak's own peak (Linux ≥ 4.0).
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
      const soak = await runCycles(server, [path], CYCLES, until(PATHS.length - i), `${runtime} soak ${path}`)
      const settleBudget = deadline - Date.now() - MEASURE_MS - RESERVE_MS * (PATHS.length - i - 1)
      const after = await waitSettled(server.port, Math.max(1000, Math.min(20_000, settleBudget)))
      const peakKiB = status(pid, 'VmHWM')
      const memoryAfter = await measureMemory(server, runtime)
      const ends = minus(server.ends, endsBefore)
      const change = (from: number, to: number) => ((to - from) / from) * 100
      const cancelled = ends.cancelled ?? 0
      paths.push({
        path,
        soak,
        timedOut: soak.done < CYCLES,
        ends,
        debugAfter: after.debug,
        settleMs: after.ms,
        memoryBefore,
        memoryAfter,
        rssChangePct: change(memoryBefore.gcKiB, memoryAfter.gcKiB),
        idleChangePct: change(memoryBefore.idleKiB, memoryAfter.idleKiB),
        peakKiB,
        seconds: (Date.now() - pathStarted) / 1000,
        pass: {
          cycles: soak.done === CYCLES && soak.ok === CYCLES,
          open: after.debug?.open === 0,
          timers: after.debug?.timers === 0,
          sources: after.debug?.sources === 0,
          rss: memoryAfter.gcKiB <= memoryBefore.gcKiB * (1 + RSS_TOLERANCE),
          // Every confirmed stream ended, each as "cancelled"; "sent" cycles may or may not have made one.
          ends: cancelled === sum(ends) && cancelled >= soak.confirmed && cancelled <= soak.done,
        },
      })
      // The next path is measured from where this one left the server.
      memoryBefore = memoryAfter
    }
    return {
      runtime,
      command,
      pid,
      warmup,
      endsWarmup,
      debugAfterWarmup: afterWarmup.debug,
      paths,
      seconds: (Date.now() - started) / 1000,
      stderr: server.stderr(),
      otherOutput: server.other,
    }
  } finally {
    await stopProcess(server.child)
  }
}

// --- report ---

const mib = (kib: number) => (kib / 1024).toFixed(1)
const mark = (ok: boolean) => (ok ? '✅' : '❌')
const fmt = (n: number) => n.toLocaleString('en-US')

const pct = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} %`
const heap = (bytes: number | null) => (bytes === null ? '?' : mib(bytes / 1024))

/** The path's name in the table: the user-style source is the own-events path. */
const pathName = (path: string) => (path === '/events' ? '/events' : '/debug/source (own events)')

function table(results: RuntimeResult[]): string {
  const rows = results.flatMap((r) =>
    r.paths.map((p) => {
      const [w, a] = [p.memoryBefore, p.memoryAfter]
      const reasons = Object.entries(p.ends)
        .map(([k, v]) => `${fmt(v)} ${k}`)
        .join(', ')
      const cells = [
        r.runtime,
        pathName(p.path),
        `${fmt(p.soak.done)} ${mark(p.pass.cycles)}`,
        fmt(p.soak.done - p.soak.ok),
        `${reasons || '0'} (≥ ${fmt(p.soak.confirmed)} expected) ${mark(p.pass.ends)}`,
        `${p.debugAfter?.open ?? '?'} ${mark(p.pass.open)}`,
        `${p.debugAfter?.timers ?? '?'} ${mark(p.pass.timers)}`,
        `${p.debugAfter?.sources ?? '?'} ${mark(p.pass.sources)}`,
        `${mib(w.gcKiB)} → ${mib(a.gcKiB)}`,
        `${pct(p.rssChangePct)} ${mark(p.pass.rss)}`,
        `${mib(w.idleKiB)} → ${mib(a.idleKiB)} (${pct(p.idleChangePct)})`,
        `${heap(w.heapUsed)} → ${heap(a.heapUsed)}`,
        mib(p.peakKiB),
        `${p.seconds.toFixed(0)} s`,
        passed(p) ? 'pass' : 'FAIL',
      ]
      return `| ${cells.join(' | ')} |`
    }),
  )
  return [
    '| Runtime | Path | Cycles | Failed | Stream ends | Open after | Timers after | Sources after | RSS after GC, before → after (MiB) | RSS change | Idle RSS, no GC (MiB) | JS heap after GC (MiB) | Peak RSS (MiB) | Time | Result |',
    '|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...rows,
  ].join('\n')
}

const passed = (p: PathResult) => Object.values(p.pass).every(Boolean)

function gitRevision(): string {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim()
  const dirty = git('status', '--porcelain', 'src') !== ''
  return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}`
}

function versions(): { node: string; bun: string; deno: string } {
  const v = (bin: string) =>
    spawnSync(`${rootPath}node_modules/.bin/${bin}`, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '?'
  return { node: process.version, bun: v('bun'), deno: v('deno') }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const command = ['npm run soak', ...(args.length ? ['--', ...args] : [])].join(' ')
  const startedAt = new Date()
  // Read before the servers start: src/ is what they run, and it may change while the soak runs.
  const srcAtStart = gitRevision()
  // Hard stop for the whole script, whatever hangs: every runtime's budget plus a minute.
  setTimeout(
    () => {
      console.error('soak: overall time limit passed, stopping')
      for (const child of children) child.kill('SIGKILL')
      process.exit(2)
    },
    MAX_MS * RUNTIMES.length + 60_000,
  ).unref()

  const results: RuntimeResult[] = []
  const errors: { runtime: Runtime; error: string }[] = []
  for (const runtime of RUNTIMES) {
    try {
      results.push(await soakRuntime(runtime))
    } catch (error) {
      errors.push({ runtime, error: String(error) })
      console.error(`${runtime}: ${error}`)
    }
  }

  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, '-')
  const dir = new URL('bench/results/', root)
  mkdirSync(dir, { recursive: true })
  const suffix = QUICK ? '-quick' : ''
  const jsonName = `soak-${stamp}${suffix}.json`
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    kernel: os.release(),
    src: gitRevision() === srcAtStart ? srcAtStart : `${srcAtStart}, changed during the run`,
    ...versions(),
  }
  const options = { cycles: CYCLES, warmup: WARMUP, concurrency: CONCURRENCY, intervalMs: INTERVAL_MS, frames: FRAMES }
  const run = {
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    options: { ...options, maxMinutes: MAX_MS / 60_000, settleMs: SETTLE_MS, rssTolerance: RSS_TOLERANCE },
    results,
    errors,
  }
  writeFileSync(new URL(jsonName, dir), `${JSON.stringify(run, null, 2)}\n`)

  const md = `## Soak: connect-then-abort

${table(results)}
${errors.map((e) => `\n${e.runtime}: could not run: ${e.error}\n`).join('')}
${fmt(CYCLES)} cycles per path and runtime, after ${fmt(WARMUP)} warm-up cycles shared by the paths, ${CONCURRENCY} in
flight. Each cycle opens a stream on a raw socket and closes it (FIN, or RST every other round) right after sending the
request, after the \`retry:\` field, or after the first event. Paths: \`GET /events\`, the demo's stream
(\`SSE_INTERVAL_MS=${INTERVAL_MS}\`, \`SSE_FRAMES=${FRAMES}\`), and \`GET ${PATHS[1]}\`, a user-style async
generator that waits on a signal-aware sleep and counts its \`finally\`; no stream ends by itself. Open streams,
pending timers and sources not returned come from \`GET /debug/streams\` (\`SSE_DEBUG=1\`). RSS is VmRSS of the server
process, the minimum of ${SETTLE_MS / 1000} s of samples once /debug/streams says all 0, before and after each path's
soak (the second path starts where the first left off): first idle, then after a full GC forced through the runtime's
inspector (\`--inspect=127.0.0.1:0\`). The criterion uses the RSS after GC: idle V8 (Node, Deno) does not collect, so
its idle RSS still holds the soak's garbage. The warm-up is as long as a soak because RSS steps up once over the first
~10,000 cycles, while the allocators grow to their working size, and then stays flat; a leak would keep growing. Pass:
every cycle done, open, timers and sources 0, RSS after GC at most +${RSS_TOLERANCE * 100} %, and every stream end
"cancelled", at least one per cycle that saw \`retry:\`.

Command: \`${command}\` — ${startedAt.toISOString()} — src ${machine.src} — Node ${process.version},
Bun ${machine.bun}, ${machine.deno}, ${machine.cores} × ${machine.cpu}.
Raw data: [results/${jsonName}](results/${jsonName})
`
  writeFileSync(new URL(`soak-latest${suffix}.md`, dir), md)
  console.log(table(results))
  for (const e of errors) console.log(`\n${e.runtime}: ${e.error}`)
  const ok = errors.length === 0 && results.every((r) => r.paths.length === PATHS.length && r.paths.every(passed))
  process.exitCode = ok ? 0 : 1
}

await main()
