/**
 * One fan-out test: servers started alone, warmed up, subscribers opened by
 * the load generator's processes, then events published at a fixed rate
 * while the servers' own /proc counters (and Redis's) are read over the
 * delivery window, from the first publish to the last delivery.
 *
 * A plan says which processes run and where subscribers and publishes go: one
 * server taking both (the fan-out rows, and the in-process row beside Redis),
 * or two servers with subscribers and a third taking the publishes, sharing
 * topics through Redis (the Redis rows).
 */
import { type ChildProcess, fork } from 'node:child_process'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { SOURCES } from '../client.ts'
import { root, stopProcess } from '../servers.ts'
import { cpuMs, freePort, machineBusyMs, resetPeak, spawnLimited, status, waitForPort } from '../system.ts'
import { monotonicUs } from './clock.ts'
import { Histogram } from './histogram.ts'
import type { FromPublisher, PublishOptions, PublishResult } from './publisher.ts'
import { type RedisServer, startRedis } from './redis.ts'
import { type FanoutDef, fanoutEnv, PUBLISH_TOKEN, TOPIC_PATH } from './servers.ts'
import type { FromSubscribers, SubscribersOptions, SubscribersResult, ToSubscribers } from './subscribers.ts'

/** One server process of a plan. */
export interface ServerSpec {
  /** Its name in the results: `server`, or `A`, `B`, `C`. */
  name: string
  def: FanoutDef
  /** Started with `REDIS_URL` of the test's redis-server. */
  redis?: boolean
}

export interface FanoutPlan {
  suite: 'fanout' | 'redis'
  row: string
  runtime: FanoutDef['runtime']
  kind: FanoutDef['kind']
  servers: ServerSpec[]
  /** Start a redis-server for the test. */
  redis: boolean
  /** Subscribers per client group and the server each group subscribes to. */
  groups: { server: string; n: number }[]
  /** The server the publisher posts to. */
  publishTo: string
}

export interface FanoutOptions {
  ratePerS: number
  events: number
  round: number
  /** Load generator processes in all, shared out over the groups (at least one each). */
  clientProcs: number
  connectPerS: number
  /** How long after the last publish the subscribers may still take to get every event. */
  drainMs: number
  /** Descriptors per server process. */
  nofile: number
  /** Node servers write a CPU profile (`--cpu-prof`) here. */
  cpuProfDir?: string
}

/** What one process cost over the delivery window. */
export interface ProcessFigures {
  name: string
  role: 'subscribers' | 'publishes' | 'subscribers, publishes' | 'redis'
  subscribers: number
  /** Events delivered to its own subscribers. */
  deliveries: number
  cpuMs: number
  /** Per delivery to its own subscribers; for a process without any (the publishing server, Redis), per delivery of the whole test. */
  cpuUsPerDelivery: number
  idleRssKiB: number
  peakRssKiB: number
  /** (peak − idle) ÷ its subscribers; 0 without subscribers. */
  rssPerSubscriberKiB: number
  /** Its CPU profile (--cpu-prof, Node only), written when it stopped. */
  cpuProfile?: string
}

export interface FanoutResult {
  suite: FanoutPlan['suite']
  row: string
  runtime: FanoutPlan['runtime']
  kind: FanoutPlan['kind']
  /** The topic crossed processes through Redis (the plan's `redis`). */
  viaRedis: boolean
  subscribers: number
  ratePerS: number
  /** Events the publisher was to send. */
  events: number
  round: number
  published: number
  publishFailures: Record<string, number>
  /** Events not sent at all: the server answered too slowly to publish them in time. */
  unsent: number
  publishLateP99Ms: number
  publishLateMaxMs: number
  /** Subscribers whose stream opened. */
  opened: number
  /** Subscribers that got every event in order, and nothing else. */
  subscribersOk: number
  failures: Record<string, number>
  /** Events received in order, over every subscriber. */
  deliveries: number
  /** Subscribers × events planned. */
  expected: number
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMaxMs: number
  /** Every server with subscribers: their CPU ÷ their deliveries. */
  cpuUsPerDelivery: number
  /** Every server with subscribers: their RSS growth ÷ their subscribers. */
  rssPerSubscriberKiB: number
  /** The busiest server with subscribers over the window, in % of one core: at 100 % its one JavaScript thread is saturated. */
  serverCpuPct: number
  processes: ProcessFigures[]
  /** From the first publish until every subscriber had the last event, or the drain time ran out. */
  windowMs: number
  /** The same window on the machine's monotonic clock (clock.ts), in µs: a CPU profile's samples are timed on it. */
  windowUs: [start: number, end: number]
  /** The busiest load generator process over the window, in % of one core. */
  clientCpuPct: number
  clientLagP99Ms: number
  clientLagMaxMs: number
  /** Machine-wide busy CPU over the window minus the servers', Redis's and the load generator's: other processes. */
  otherCpuMs: number
  error?: string
}

// Publishes go one at a time: a server that answers slowly delays the rest, by this much at most.
const PUBLISH_SLACK_MS = 30_000

type Message = { type: string }

/** A forked child's messages, awaited by type (a message that comes before it is awaited is kept). */
class Child<In extends Message> {
  readonly process: ChildProcess
  readonly #kept: In[] = []
  readonly #waiting = new Map<string, (message: In) => void>()
  #exited: string | undefined

  constructor(script: string) {
    this.process = fork(`${root}${script}`, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.process.on('message', (message: In) => {
      const waiter = this.#waiting.get(message.type)
      if (!waiter) return void this.#kept.push(message)
      this.#waiting.delete(message.type)
      waiter(message)
    })
    this.process.once('exit', (code) => {
      this.#exited = `${script} exited with ${code}`
    })
  }

  next<T extends In['type']>(type: T, timeoutMs: number): Promise<Extract<In, { type: T }>> {
    const i = this.#kept.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.#kept.splice(i, 1)[0] as Extract<In, { type: T }>)
    return new Promise((resolve, reject) => {
      if (this.#exited) return reject(new Error(this.#exited))
      const timer = setTimeout(() => {
        this.#waiting.delete(type)
        reject(new Error(`no '${type}' from the ${this.process.spawnargs.at(-1)} child in ${timeoutMs} ms`))
      }, timeoutMs)
      const onExit = () => {
        clearTimeout(timer)
        reject(new Error(this.#exited))
      }
      this.process.once('exit', onExit)
      this.#waiting.set(type, (message) => {
        clearTimeout(timer)
        this.process.off('exit', onExit)
        resolve(message as Extract<In, { type: T }>)
      })
    })
  }

  send(message: unknown): void {
    this.process.send(message as object)
  }

  kill(): void {
    this.process.kill('SIGKILL')
  }
}

interface Running {
  spec: ServerSpec
  port: number
  child: ChildProcess
  stderr: string[]
  /** Where its CPU profile goes, with --cpu-prof. */
  cpuProfile?: string
}

async function startServer(spec: ServerSpec, redis: RedisServer | undefined, options: FanoutOptions): Promise<Running> {
  const port = await freePort()
  const extra: NodeJS.ProcessEnv = spec.redis && redis ? { REDIS_URL: redis.url } : {}
  // A Node server writes its profile when it exits (each Node server here exits on SIGTERM).
  let cpuProfile: string | undefined
  if (options.cpuProfDir && spec.def.runtime === 'node') {
    const name = `${spec.def.name.replace(/\W+/g, '-')}-${spec.name}-r${options.round}-${Date.now()}.cpuprofile`
    extra.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${options.cpuProfDir} --cpu-prof-name=${name}`
    cpuProfile = `${options.cpuProfDir}/${name}`
  }
  const child = spawnLimited(spec.def.command(port), fanoutEnv(port, extra), options.nofile)
  const stderr: string[] = []
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.join('').length < 4000) stderr.push(b.toString())
  })
  const running: Running = { spec, port, child, stderr, ...(cpuProfile ? { cpuProfile } : {}) }
  await waitForPort(port, child, 20_000).catch((error: Error) => {
    throw new Error(`${spec.name}: ${error.message} ${stderr.join('').trim().slice(-500)}`)
  })
  return running
}

/** Publishes `count` events of `data` to `port`, one after another. */
async function publishSome(port: number, count: number, data: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`http://127.0.0.1:${port}${TOPIC_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${PUBLISH_TOKEN}` },
      body: data,
    })
    await res.arrayBuffer()
    if (res.status !== 201) throw new Error(`a warm-up publish got ${res.status}`)
  }
}

/**
 * Warms every subscribing server up (JIT, lazy modules, the publish and
 * fan-out paths) with a few subscribers and publishes, and checks on the way
 * that what is published where the publisher posts reaches the subscribers
 * of every server: a Redis row whose servers do not share the topic stops here.
 */
async function warmup(subscribing: Running[], publishing: Running): Promise<void> {
  const sockets = subscribing.flatMap((server) =>
    Array.from({ length: 20 }, () => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port })
      const seen = { server, events: 0, socket }
      socket.on('data', (buf: Buffer) => {
        // better-sse writes `data:` without the space.
        seen.events += buf.toString('latin1').split(/data: ?warm-up/).length - 1
      })
      socket.on('error', () => {})
      socket.write(`GET ${TOPIC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
      return seen
    }),
  )
  try {
    // Subscribed once their first bytes came: every stream starts with `retry:` or a comment.
    const until = Date.now() + 5000
    while (Date.now() < until && sockets.some((s) => s.socket.bytesRead === 0)) await sleep(20)
    await publishSome(publishing.port, 30, 'warm-up')
    while (Date.now() < until + 3000 && sockets.some((s) => s.events < 30)) await sleep(20)
    for (const server of subscribing) {
      const got = sockets.filter((s) => s.server === server && s.events > 0).length
      if (got === 0) {
        throw new Error(
          `events published on ${publishing.spec.name} never reached the subscribers of ${server.spec.name}` +
            (server === publishing ? '' : ': does the server share topics through REDIS_URL?'),
        )
      }
    }
  } finally {
    for (const s of sockets) s.socket.destroy()
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

function emptyResult(plan: FanoutPlan, options: FanoutOptions): FanoutResult {
  const subscribers = sum(plan.groups.map((g) => g.n))
  return {
    suite: plan.suite,
    row: plan.row,
    runtime: plan.runtime,
    kind: plan.kind,
    viaRedis: plan.redis,
    subscribers,
    ratePerS: options.ratePerS,
    events: options.events,
    round: options.round,
    published: 0,
    publishFailures: {},
    unsent: 0,
    publishLateP99Ms: 0,
    publishLateMaxMs: 0,
    opened: 0,
    subscribersOk: 0,
    failures: {},
    deliveries: 0,
    expected: subscribers * options.events,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    latencyMaxMs: 0,
    cpuUsPerDelivery: 0,
    rssPerSubscriberKiB: 0,
    serverCpuPct: 0,
    processes: [],
    windowMs: 0,
    windowUs: [0, 0],
    clientCpuPct: 0,
    clientLagP99Ms: 0,
    clientLagMaxMs: 0,
    otherCpuMs: 0,
  }
}

/** Runs one test of `plan`; never throws: what went wrong is the result's `error`. */
export async function runFanout(plan: FanoutPlan, options: FanoutOptions): Promise<FanoutResult> {
  const result = emptyResult(plan, options)
  let redis: RedisServer | undefined
  const servers: Running[] = []
  const clients: { child: Child<FromSubscribers>; group: string; n: number }[] = []
  let publisher: Child<FromPublisher> | undefined
  try {
    if (plan.redis) redis = await startRedis()
    for (const spec of plan.servers) servers.push(await startServer(spec, redis, options))
    const byName = (name: string) => servers.find((s) => s.spec.name === name) as Running
    const publishing = byName(plan.publishTo)
    const subscribing = servers.filter((s) => plan.groups.some((g) => g.server === s.spec.name))
    await warmup(subscribing, publishing)

    // The load generator and the publisher, forked and ready before anything is measured.
    const perGroup = Math.max(1, Math.round(options.clientProcs / plan.groups.length))
    for (const group of plan.groups) {
      for (let i = 0; i < perGroup; i++) {
        const n = Math.floor(group.n / perGroup) + (i < group.n % perGroup ? 1 : 0)
        clients.push({ child: new Child<FromSubscribers>('bench/fanout/subscribers.ts'), group: group.server, n })
      }
    }
    publisher = new Child<FromPublisher>('bench/fanout/publisher.ts')
    await Promise.all([...clients.map((c) => c.child.next('ready', 10_000)), publisher.next('ready', 10_000)])
    await sleep(500)

    const pids = servers.map((s) => s.child.pid ?? 0)
    const idle = pids.map((pid) => status(pid, 'VmRSS'))
    const hwmReset = pids.map(resetPeak)
    let sampled = [...idle]
    const sampler = setInterval(() => {
      sampled = pids.map((pid, i) => Math.max(sampled[i] ?? 0, status(pid, 'VmRSS')))
    }, 200)
    try {
      // Subscribe: not measured, it only has to succeed.
      const openMs = Math.max(...plan.groups.map((g) => (g.n / options.connectPerS) * 1000)) + 30_000
      const opened = clients.map(({ child, group, n }) => {
        const subscribe: SubscribersOptions = {
          port: byName(group).port,
          path: TOPIC_PATH,
          n,
          connectPerS: options.connectPerS / clients.length,
          events: options.events,
          sources: SOURCES,
          openTimeoutMs: 20_000,
        }
        child.send({ type: 'open', options: subscribe } satisfies ToSubscribers)
        return child.next('opened', openMs)
      })
      result.opened = sum((await Promise.all(opened)).map((m) => m.opened))
      await sleep(500)

      // The delivery window: from the first publish until every subscriber has the last event.
      const procs = redis ? [...pids, redis.child.pid ?? 0] : pids
      const cpu0 = procs.map(cpuMs)
      const busy0 = machineBusyMs()
      const t0 = performance.now()
      const startUs = monotonicUs()
      const publish: PublishOptions = {
        port: publishing.port,
        path: TOPIC_PATH,
        token: PUBLISH_TOKEN,
        events: options.events,
        ratePerS: options.ratePerS,
        timeoutMs: 10_000,
        deadlineMs: (options.events / options.ratePerS) * 1000 + PUBLISH_SLACK_MS,
      }
      publisher.send({ type: 'start', options: publish })
      const published = await publisher.next('result', publish.deadlineMs + publish.timeoutMs + 5000)
      // The subscribers wait for the last event the server took, not for those never sent.
      for (const c of clients) c.child.send({ type: 'last', n: published.result.last } satisfies ToSubscribers)
      const received = Promise.all(clients.map((c) => c.child.next('received', options.drainMs + 5000)))
      const drained = new AbortController()
      const drain = sleep(options.drainMs, undefined, { signal: drained.signal }).catch(() => {})
      await Promise.race([received, drain]).finally(() => drained.abort())
      result.windowMs = performance.now() - t0
      result.windowUs = [startUs, monotonicUs()]
      const cpu = procs.map((pid, i) => cpuMs(pid) - (cpu0[i] ?? 0))
      const busy = machineBusyMs() - busy0
      received.catch(() => {})

      const peaks = pids.map((pid, i) => Math.max(sampled[i] ?? 0, hwmReset[i] ? status(pid, 'VmHWM') : 0))
      const reports = clients.map(async ({ child, group }) => {
        child.send({ type: 'report' } satisfies ToSubscribers)
        return { group, result: (await child.next('result', 30_000)).result as SubscribersResult }
      })
      const parts = await Promise.all(reports)
      fill(result, plan, published.result, parts, {
        cpu,
        idle,
        peaks,
        busy,
        profiles: servers.map((s) => s.cpuProfile),
      })
    } finally {
      clearInterval(sampler)
    }
  } catch (error) {
    const stderr = servers.map((s) => s.stderr.join('').trim().slice(-300)).filter((s) => s !== '')
    result.error = `${error instanceof Error ? error.message : String(error)} ${stderr.join(' | ')}`.trim()
  } finally {
    for (const c of clients) c.child.kill()
    publisher?.kill()
    await Promise.all(servers.map((s) => stopProcess(s.child)))
    await redis?.stop()
  }
  return result
}

/** The result's figures from what each process measured. */
function fill(
  result: FanoutResult,
  plan: FanoutPlan,
  published: PublishResult,
  parts: { group: string; result: SubscribersResult }[],
  measured: { cpu: number[]; idle: number[]; peaks: number[]; busy: number; profiles: (string | undefined)[] },
): void {
  result.published = published.published
  result.publishFailures = published.failures
  result.unsent = published.unsent
  result.publishLateP99Ms = published.lateP99Ms
  result.publishLateMaxMs = published.lateMaxMs
  const latency = new Histogram()
  for (const { result: part } of parts) {
    latency.add(part.latency)
    result.subscribersOk += part.ok
    result.deliveries += part.deliveries
    for (const [k, v] of Object.entries(part.failures)) result.failures[k] = (result.failures[k] ?? 0) + v
  }
  result.latencyP50Ms = latency.percentileMs(50)
  result.latencyP99Ms = latency.percentileMs(99)
  result.latencyMaxMs = latency.maxUs / 1000
  result.clientCpuPct = Math.max(...parts.map((p) => (p.result.windowCpuMs / p.result.windowMs) * 100))
  result.clientLagP99Ms = Math.max(...parts.map((p) => p.result.lagP99Ms))
  result.clientLagMaxMs = Math.max(...parts.map((p) => p.result.lagMaxMs))
  const perDelivery = (ms: number, deliveries: number) => (deliveries > 0 ? (ms * 1000) / deliveries : 0)
  result.processes = plan.servers.map((spec, i) => {
    const subscribers = sum(plan.groups.filter((g) => g.server === spec.name).map((g) => g.n))
    const deliveries = sum(parts.filter((p) => p.group === spec.name).map((p) => p.result.deliveries))
    const publishes = plan.publishTo === spec.name
    const cpu = measured.cpu[i] ?? 0
    const [idle, peak] = [measured.idle[i] ?? 0, measured.peaks[i] ?? 0]
    return {
      name: spec.name,
      role: subscribers > 0 ? (publishes ? 'subscribers, publishes' : 'subscribers') : 'publishes',
      subscribers,
      deliveries,
      cpuMs: cpu,
      cpuUsPerDelivery: perDelivery(cpu, subscribers > 0 ? deliveries : result.deliveries),
      idleRssKiB: idle,
      peakRssKiB: peak,
      rssPerSubscriberKiB: subscribers > 0 ? (peak - idle) / subscribers : 0,
      ...(measured.profiles[i] ? { cpuProfile: measured.profiles[i] } : {}),
    }
  })
  if (plan.redis) {
    const cpu = measured.cpu[plan.servers.length] ?? 0
    result.processes.push({
      name: 'redis-server',
      role: 'redis',
      subscribers: 0,
      deliveries: 0,
      cpuMs: cpu,
      cpuUsPerDelivery: perDelivery(cpu, result.deliveries),
      idleRssKiB: 0,
      peakRssKiB: 0,
      rssPerSubscriberKiB: 0,
    })
  }
  const serving = result.processes.filter((p) => p.subscribers > 0)
  result.cpuUsPerDelivery = perDelivery(sum(serving.map((p) => p.cpuMs)), result.deliveries)
  result.serverCpuPct = Math.max(...serving.map((p) => (p.cpuMs / result.windowMs) * 100))
  result.rssPerSubscriberKiB =
    sum(serving.map((p) => p.peakRssKiB - p.idleRssKiB)) / Math.max(1, sum(serving.map((p) => p.subscribers)))
  // A generator's own window runs from its `opened` to its report, a little longer than the delivery window: scaled to it.
  const clientCpu = sum(parts.map((p) => (p.result.windowCpuMs * result.windowMs) / p.result.windowMs))
  result.otherCpuMs = Math.max(0, measured.busy - sum(measured.cpu) - clientCpu)
}
