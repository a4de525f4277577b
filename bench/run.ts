/**
 * Benchmark orchestrator: `npm run bench [-- --quick] [--suites streams,fanout,redis]
 * [--rounds 3] [--servers 'edge-sse node,floor node:http'] [--client-procs N] [--max-minutes 180]`,
 * and per suite:
 *
 * - streams (one stream per client, its own events): [--n 1000,5000]
 *   [--ramp-ms 4000 | --rate 1000] [--streams-per-session 100];
 * - fanout (subscribers of one topic, issue 14): [--fanout 10x1000,10x5000,10x10000,50x1000]
 *   (events/s × subscribers) [--publish-s 10] [--connect-rate 2000] [--cpu-prof];
 * - redis (the topic shared by three servers through Redis, beside one
 *   server's in-process topic, issue 15): [--redis-subscribers 10000]
 *   [--redis-runtimes node,bun,deno], published at 10/s.
 *
 * For every round, setting and server (order rotated each round), it starts
 * the server alone, warms it up, then runs the load generator in separate
 * processes while reading the server's own /proc counters. Results go to
 * bench/results/<stamp>.json after every test, then to a report (report.ts).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http2 from 'node:http2'
import net from 'node:net'
import os from 'node:os'
import process from 'node:process'
import { setTimeout as sleep } from 'node:timers/promises'
import { makeCert, type TestCert, tlsEnv } from '../test/support/certs.ts'
import type { LoadOptions, LoadResult } from './client.ts'
import { percentile, SOURCES } from './client.ts'
import { fanoutPlan, redisPlans } from './fanout/plans.ts'
import { type FanoutPlan, type FanoutResult, runFanout } from './fanout/run.ts'
import { fanoutServers } from './fanout/servers.ts'
import { writeReport } from './report.ts'
import type { ServerDef } from './servers.ts'
import { FRAMES, INTERVAL_MS, root, serverEnv, servers, stopProcess, versions } from './servers.ts'
import {
  CLK_TCK,
  cpuMs,
  freePort,
  hardNofile,
  listenOverflows,
  machineBusyMs,
  resetPeak,
  spawnLimited,
  status,
  waitForPort,
} from './system.ts'

/** One measured test: one server, one N, one round. */
export interface TestResult {
  server: string
  n: number
  round: number
  ok: number
  failed: number
  failures: Record<string, number>
  events: number
  expected: number
  ttfbP50: number
  ttfbP99: number
  jitterP50: number
  jitterP99: number
  jitterMax: number
  idleRssKiB: number
  peakRssKiB: number
  rssPerStreamKiB: number
  cpuMs: number
  cpuMsPerStream: number
  listenOverflows: number
  clientCpuMs: number
  clientLagP99Ms: number
  peakOpen: number
  /** CPU used by every other process on the machine during the test: noise from outside the bench. */
  otherCpuMs: number
  error?: string
}

export interface RunFile {
  command: string
  startedAt: string
  finishedAt: string
  quick: boolean
  machine: Record<string, string | number>
  options: {
    ns: number[]
    rounds: number
    ratePerS: number
    rampMs: number[]
    clientProcs: number
    /** HTTP/2 rows: streams per client session. Absent from runs before HTTP/2 rows existed. */
    streamsPerSession?: number
    frames: number
    intervalMs: number
  }
  /** The streams suite's tests (empty when it did not run). */
  tests: TestResult[]
  /** The fan-out and Redis suites' options, when either ran. */
  fanoutOptions?: {
    /** Fan-out settings run: events per second and subscribers. */
    settings: { ratePerS: number; subscribers: number }[]
    publishS: number
    redisSubscribers: number
    clientProcs: number
    connectPerS: number
    drainMs: number
  }
  fanout?: FanoutResult[]
  redis?: FanoutResult[]
}

const args = process.argv.slice(2)
const has = (name: string) => args.includes(`--${name}`)
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? fallback : (args[i + 1] ?? fallback)
}
const quick = has('quick')
const list = (name: string, fallback: string) =>
  opt(name, fallback)
    .split(',')
    .filter((x) => x !== '')
const suites = list('suites', 'streams,fanout,redis')
for (const suite of suites) {
  if (!['streams', 'fanout', 'redis'].includes(suite)) throw new Error(`unknown suite ${suite}`)
}
const ns = suites.includes('streams') ? list('n', quick ? '1000' : '1000,5000,10000').map(Number) : []
const rounds = Number(opt('rounds', quick ? '1' : '3'))
// One ramp for every N, shorter than a stream (5 × 1 s) so that all N streams
// are open at once at its end; --rate R instead ramps N / R seconds (at most
// rate × stream length streams then overlap).
const rate = Number(opt('rate', '0'))
const rampFor = (n: number) => (rate > 0 ? (n / rate) * 1000 : Number(opt('ramp-ms', '4000')))
// Streams: one generator process is enough at 10k × 1 event/s. Fan-out: 10k
// subscribers × 10+ events/s is more than one Node process reads: two.
const clientProcs = Number(opt('client-procs', '1'))
const fanoutClientProcs = Number(opt('client-procs', '2'))
// A browser multiplexes every stream to one origin over one connection, up to
// the server's limit on concurrent streams: 100 is the usual one.
const streamsPerSession = Number(opt('streams-per-session', '100'))
// Hard stop for the whole run: tests left when it passes are skipped, not run. A full run of
// the three suites takes about 100 min on the 2-core machine (streams ~30, fan-out ~55, Redis ~15).
const maxMinutes = Number(opt('max-minutes', quick ? '20' : '180'))
const only = list('servers', '')
const pick = <T extends { name: string }>(defs: T[]) => (only.length ? defs.filter((d) => only.includes(d.name)) : defs)
const chosen = suites.includes('streams') ? pick(servers) : []
// Events/s × subscribers. 10/s at 1k, 5k, 10k; and 50/s at 1k: the same
// 50,000 deliveries/s as 10/s at 5k, in five times as many events 20 ms
// apart, so per-event costs (the publish, waking every cursor) weigh five
// times more. 50/s at 5k or 10k would ask this 2-core machine for 250k–500k
// deliveries/s, several times what any runtime's one thread delivers here.
const settings = (
  suites.includes('fanout') ? list('fanout', quick ? '10x1000,50x1000' : '10x1000,10x5000,10x10000,50x1000') : []
).map((setting) => {
  const [ratePerS, subscribers] = setting.split('x').map(Number)
  if (!ratePerS || !subscribers)
    throw new Error(`--fanout takes <events/s>x<subscribers>, e.g. 10x1000; got ${setting}`)
  return { ratePerS, subscribers }
})
const subscriberCounts = settings.map((s) => s.subscribers)
const publishS = Number(opt('publish-s', quick ? '5' : '10'))
const connectPerS = Number(opt('connect-rate', '2000'))
const fanoutChosen = suites.includes('fanout') ? pick(fanoutServers) : []
const redisSubscribers = suites.includes('redis') ? Number(opt('redis-subscribers', quick ? '2000' : '10000')) : 0
const redisChosen = suites.includes('redis')
  ? list('redis-runtimes', 'node,bun,deno').map((rt) => {
      const def = fanoutServers.find((d) => d.kind === 'edge' && d.runtime === rt)
      if (!def || rt === 'workerd') throw new Error(`no Redis row on ${rt}: node, bun or deno`)
      return def
    })
  : []
// Node servers of the fan-out and Redis suites write CPU profiles to bench/results/profiles-<stamp>/.
const cpuProf = has('cpu-prof')
// Subscribers left without the last event this long after the last publish count as missing it.
const DRAIN_MS = 10_000
// One descriptor per stream plus slack, up to this sandbox's hard limit.
const nofile = Math.min(Math.max(...ns, ...subscriberCounts, redisSubscribers) + 4096, hardNofile)

/** Opens a few streams and drops them after the first bytes: JIT, lazy modules and the cancel path warm up. */
async function warmup(port: number, count = 50): Promise<void> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port }, () =>
            s.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`),
          )
          const done = () => {
            s.destroy()
            resolve()
          }
          s.once('data', done)
          s.on('error', done)
          // The seed server sends nothing before frame 1.
          s.setTimeout(INTERVAL_MS * 1.5, done)
        }),
    ),
  )
}

/** The same warm-up over HTTP/2: `count` streams on one session, each reset after its first bytes. */
async function warmupH2(port: number, ca: string, count = 50): Promise<void> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca })
  session.on('error', () => {})
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const stream = session.request({ ':path': '/events', accept: 'text/event-stream' })
          const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), INTERVAL_MS * 1.5)
          stream.once('data', () => stream.close(http2.constants.NGHTTP2_CANCEL))
          stream.on('error', () => {})
          stream.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
        }),
    ),
  )
  session.destroy()
}

/** Forks the generator processes and waits until each says ready. */
async function forkClients(count: number): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () =>
    fork(`${root}bench/client.ts`, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))))
  return children
}

function runClients(children: ChildProcess[], options: LoadOptions, timeoutMs: number): Promise<LoadResult[]> {
  const share = (i: number) => Math.floor(options.n / children.length) + (i < options.n % children.length ? 1 : 0)
  return Promise.all(
    children.map(
      (child, i) =>
        new Promise<LoadResult>((resolve, reject) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL')
            reject(new Error('load generator timed out'))
          }, timeoutMs)
          child.once('message', (r: LoadResult) => {
            clearTimeout(timer)
            resolve(r)
          })
          // 'close', not 'exit': it comes after the IPC channel is drained, so a result sent just before exiting is read first.
          child.once('close', (code) => reject(new Error(`load generator exited with ${code}`)))
          child.send({ ...options, n: share(i) })
        }),
    ),
  )
}

async function runTest(def: ServerDef, n: number, round: number, cert: TestCert | undefined): Promise<TestResult> {
  const port = await freePort()
  const tls = def.http2 ? cert : undefined
  const h2 = tls && { ca: tls.cert, streamsPerSession }
  const child = spawnLimited(def.command(port), { ...serverEnv(port), ...(tls ? tlsEnv(tls) : {}) }, nofile)
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4000) stderr += b.toString()
  })
  const result: TestResult = {
    server: def.name,
    n,
    round,
    ok: 0,
    failed: n,
    failures: {},
    events: 0,
    expected: n * FRAMES,
    ttfbP50: 0,
    ttfbP99: 0,
    jitterP50: 0,
    jitterP99: 0,
    jitterMax: 0,
    idleRssKiB: 0,
    peakRssKiB: 0,
    rssPerStreamKiB: 0,
    cpuMs: 0,
    cpuMsPerStream: 0,
    listenOverflows: 0,
    clientCpuMs: 0,
    clientLagP99Ms: 0,
    peakOpen: 0,
    otherCpuMs: 0,
  }
  let clients: ChildProcess[] = []
  let failure: unknown
  try {
    await waitForPort(port, child, 20_000)
    const pid = child.pid ?? 0
    await (h2 ? warmupH2(port, h2.ca) : warmup(port))
    clients = await forkClients(clientProcs)
    await sleep(500)
    result.idleRssKiB = status(pid, 'VmRSS')
    const hwmReset = resetPeak(pid)
    const cpu0 = cpuMs(pid)
    const overflow0 = listenOverflows()
    const busy0 = machineBusyMs()
    // Sampled RSS backs up VmHWM where clear_refs is not allowed.
    let sampled = result.idleRssKiB
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, status(pid, 'VmRSS'))
    }, 200)
    const rampMs = rampFor(n)
    const options: LoadOptions = { port, n, rampMs, frames: FRAMES, intervalMs: INTERVAL_MS, sources: SOURCES, h2 }
    let parts: LoadResult[]
    try {
      parts = await runClients(clients, options, rampMs + FRAMES * INTERVAL_MS + 20_000)
    } finally {
      clearInterval(sampler)
    }
    result.peakRssKiB = Math.max(sampled, hwmReset ? status(pid, 'VmHWM') : 0)
    result.cpuMs = cpuMs(pid) - cpu0
    const busy = machineBusyMs() - busy0
    result.listenOverflows = listenOverflows() - overflow0
    const ttfb = parts.flatMap((p) => p.ttfbMs).sort((a, b) => a - b)
    const jitter = parts.flatMap((p) => p.jitterMs).sort((a, b) => a - b)
    result.ok = parts.reduce((s, p) => s + p.ok, 0)
    result.failed = parts.reduce((s, p) => s + p.failed, 0)
    result.events = parts.reduce((s, p) => s + p.events, 0)
    for (const p of parts) {
      for (const [k, v] of Object.entries(p.failures)) result.failures[k] = (result.failures[k] ?? 0) + v
    }
    result.ttfbP50 = percentile(ttfb, 50)
    result.ttfbP99 = percentile(ttfb, 99)
    result.jitterP50 = percentile(jitter, 50)
    result.jitterP99 = percentile(jitter, 99)
    result.jitterMax = jitter.at(-1) ?? 0
    result.rssPerStreamKiB = (result.peakRssKiB - result.idleRssKiB) / n
    result.cpuMsPerStream = result.cpuMs / n
    result.clientCpuMs = parts.reduce((s, p) => s + p.clientCpuMs, 0)
    result.clientLagP99Ms = Math.max(...parts.map((p) => p.clientLagP99Ms))
    result.peakOpen = parts.reduce((s, p) => s + p.peakOpen, 0)
    result.otherCpuMs = Math.max(0, busy - result.cpuMs - result.clientCpuMs)
  } catch (error) {
    failure = error
  } finally {
    for (const c of clients) c.kill('SIGKILL')
    await stopProcess(child)
  }
  // Read once stopProcess has seen the pipe close: a server that died early has all its stderr in by then.
  if (failure !== undefined) {
    result.error = `${failure instanceof Error ? failure.message : String(failure)} ${stderr.trim().slice(-500)}`.trim()
  }
  return result
}

/** The commit measured, flagged when src/ has uncommitted changes (the bench runs the working tree). */
function srcRevision(): string {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout.trim()
  const dirty = git('status', '--porcelain', 'src') !== ''
  return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}`
}

function machine(): Record<string, string | number> {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim()
    } catch {
      return '?'
    }
  }
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    somaxconn: read('/proc/sys/net/core/somaxconn'),
    portRange: read('/proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/, '–'),
    nofile,
    clkTck: CLK_TCK,
    src: srcRevision(),
    ...versions(),
  }
}

/** Each fan-out test of a round: every setting (rate × subscribers), the rows in an order rotated by round. */
function fanoutTests(round: number): { plan: FanoutPlan; ratePerS: number }[] {
  const rotate = <T>(xs: T[]) => xs.map((_, i) => xs[(i + round - 1) % xs.length] as T)
  const tests: { plan: FanoutPlan; ratePerS: number }[] = []
  for (const { ratePerS, subscribers } of settings) {
    for (const def of rotate(fanoutChosen)) tests.push({ plan: fanoutPlan(def, subscribers), ratePerS })
  }
  // The Redis load: 10 events/s.
  for (const def of rotate(redisChosen)) {
    for (const plan of rotate(redisPlans(def, redisSubscribers))) tests.push({ plan, ratePerS: 10 })
  }
  return tests
}

async function main(): Promise<void> {
  const started = Date.now()
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const suffix = quick ? '-quick' : ''
  mkdirSync(`${root}bench/results`, { recursive: true })
  const jsonPath = `${root}bench/results/${stamp}${suffix}.json`
  // Each bundle once, though rows of several suites serve it.
  for (const build of new Set([...chosen, ...fanoutChosen, ...redisChosen].map((d) => d.build))) build?.()
  // Made with openssl for this run only (removed when it exits): no key is ever committed.
  const cert = chosen.some((s) => s.http2) ? await makeCert() : undefined
  const fanoutOn = fanoutChosen.length > 0 || redisChosen.length > 0
  const run: RunFile = {
    command: ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' '),
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    quick,
    machine: machine(),
    options: {
      ns,
      rounds,
      ratePerS: rate,
      rampMs: ns.map(rampFor),
      clientProcs,
      ...(cert ? { streamsPerSession } : {}),
      frames: FRAMES,
      intervalMs: INTERVAL_MS,
    },
    tests: [],
    ...(fanoutOn
      ? {
          fanoutOptions: {
            settings: fanoutChosen.length ? settings : [],
            publishS,
            redisSubscribers,
            clientProcs: fanoutClientProcs,
            connectPerS,
            drainMs: DRAIN_MS,
          },
          ...(fanoutChosen.length ? { fanout: [] } : {}),
          ...(redisChosen.length ? { redis: [] } : {}),
        }
      : {}),
  }
  const save = () => writeFileSync(jsonPath, `${JSON.stringify(run, null, 2)}\n`)
  const overBudget = () => {
    if (Date.now() - started <= maxMinutes * 60_000) return false
    console.log(`time budget of ${maxMinutes} min reached: stopping`)
    return true
  }
  const total = rounds * ns.length * chosen.length
  if (total > 0) {
    console.log(`streams: ${total} tests (${rounds} rounds × N ${ns.join('/')} × ${chosen.length} servers)`)
  }
  outer: for (let round = 1; round <= rounds; round++) {
    for (const n of ns) {
      // Rotate the order every round so no server always runs first (cold machine) or last.
      const order = chosen.map((_, i) => chosen[(i + round - 1) % chosen.length] as ServerDef)
      for (const def of order) {
        if (overBudget()) break outer
        const r = await runTest(def, n, round, cert)
        run.tests.push(r)
        save()
        console.log(
          `[${run.tests.length}/${total}] r${round} ${def.name.padEnd(22)} N=${String(n).padStart(5)} ` +
            `ok ${r.ok} fail ${r.failed} ttfb99 ${r.ttfbP99.toFixed(1)} jit99 ${r.jitterP99.toFixed(1)} ` +
            `${r.rssPerStreamKiB.toFixed(1)} KiB/stream ${r.cpuMsPerStream.toFixed(3)} ms/stream` +
            (r.error ? ` ERROR ${r.error}` : ''),
        )
      }
    }
  }
  const fanoutTotal = rounds * fanoutTests(1).length
  if (fanoutTotal > 0) console.log(`fan-out and Redis: ${fanoutTotal} tests (${rounds} rounds)`)
  let done = 0
  fan: for (let round = 1; round <= rounds; round++) {
    for (const { plan, ratePerS } of fanoutTests(round)) {
      if (overBudget()) break fan
      const r = await runFanout(plan, {
        ratePerS,
        events: Math.round(ratePerS * publishS),
        round,
        clientProcs: fanoutClientProcs,
        connectPerS,
        drainMs: DRAIN_MS,
        nofile,
        ...(cpuProf ? { cpuProfDir: `${root}bench/results/profiles-${stamp}` } : {}),
      })
      run[plan.suite]?.push(r)
      save()
      console.log(
        `[${++done}/${fanoutTotal}] r${round} ${plan.row.padEnd(26)} S=${String(r.subscribers).padStart(5)} ` +
          `${String(ratePerS).padStart(3)}/s deliveries ${r.deliveries}/${r.expected} ` +
          `p50 ${r.latencyP50Ms.toFixed(1)} p99 ${r.latencyP99Ms.toFixed(1)} max ${r.latencyMaxMs.toFixed(0)} ms ` +
          `${r.cpuUsPerDelivery.toFixed(1)} µs/delivery ${r.rssPerSubscriberKiB.toFixed(1)} KiB/sub ` +
          `client ${r.clientCpuPct.toFixed(0)}% lag99 ${r.clientLagP99Ms.toFixed(0)} ms` +
          (r.error ? ` ERROR ${r.error}` : ''),
      )
    }
  }
  run.finishedAt = new Date().toISOString()
  save()
  const md = writeReport(run, jsonPath)
  console.log(`wrote ${jsonPath.slice(root.length)} and ${md.slice(root.length)}`)
}

await main()
