/**
 * The fan-out and Redis sections of the report: medians over rounds per row
 * and setting, each edge-sse row beside its runtime's floor (and better-sse
 * on Node), the goals of issues 14 and 15 marked met or not, and the Redis
 * rows beside the in-process topic under the same load.
 */
import type { RunFile } from '../run.ts'
import type { FanoutResult, ProcessFigures } from './run.ts'
import { fanoutServers } from './servers.ts'

type Metric = {
  [K in keyof FanoutResult]-?: FanoutResult[K] extends number ? K : never
}[keyof FanoutResult]

/** The tests of one row at one setting, over the rounds. */
export interface FanoutRow {
  row: string
  runtime: FanoutResult['runtime']
  kind: FanoutResult['kind']
  viaRedis: boolean
  subscribers: number
  ratePerS: number
  /** Rounds with figures (no error). */
  rounds: number
  median: (m: Metric) => number
  /** Median over rounds of one process's figure. */
  process: (name: string, m: keyof ProcessFigures & ('cpuUsPerDelivery' | 'cpuMs' | 'rssPerSubscriberKiB')) => number
  processes: string[]
  failures: Record<string, number>
  errors: string[]
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

/** Groups results by row and setting, in the order the rows are defined, then by rate and subscribers. */
export function fanoutRows(results: FanoutResult[]): FanoutRow[] {
  const keys = [...new Set(results.map((r) => `${r.ratePerS}\t${r.subscribers}\t${r.row}`))]
  const order = (row: string) => fanoutServers.findIndex((d) => row.startsWith(d.name))
  const rows = keys.map((key) => {
    const all = results.filter((r) => `${r.ratePerS}\t${r.subscribers}\t${r.row}` === key)
    const first = all[0] as FanoutResult
    const good = all.filter((r) => !r.error)
    const failures: Record<string, number> = {}
    for (const r of all) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v
    return {
      row: first.row,
      runtime: first.runtime,
      kind: first.kind,
      viaRedis: first.viaRedis,
      subscribers: first.subscribers,
      ratePerS: first.ratePerS,
      rounds: good.length,
      median: (m: Metric) => median(good.map((r) => r[m])),
      process: (name: string, m: 'cpuUsPerDelivery' | 'cpuMs' | 'rssPerSubscriberKiB') =>
        median(good.map((r) => r.processes.find((p) => p.name === name)?.[m] ?? Number.NaN)),
      processes: first.processes.map((p) => p.name),
      failures,
      errors: all.flatMap((r) => (r.error ? [`round ${r.round}: ${r.error.replace(/\s+/g, ' ').slice(0, 400)}`] : [])),
    }
  })
  return rows.sort(
    (a, b) =>
      a.ratePerS - b.ratePerS ||
      a.subscribers - b.subscribers ||
      order(a.row) - order(b.row) ||
      a.row.localeCompare(b.row),
  )
}

const f = (x: number, digits = 1) => (Number.isNaN(x) ? '—' : x.toFixed(digits))
const mark = (met: boolean) => (met ? '✅' : '❌')
const ratio = (x: number, base: number) => (base > 0 ? x / base : Number.NaN)
const times = (x: number) => (Number.isNaN(x) ? 'no floor' : `${f(x, 2)}×`)

// Issue 14's goals for edge-sse, against its runtime's floor (and better-sse on Node).
const CPU_GOAL = 1.1
const P99_GOAL = 1.2
// Issue 15's goals for the Redis rows, against the in-process topic.
const REDIS_P99_GOAL = 1.5
const REDIS_CPU_GOAL = 1.1

function floorOf(rows: FanoutRow[], r: FanoutRow): FanoutRow | undefined {
  return rows.find(
    (x) =>
      x.kind === 'floor' &&
      x.runtime === r.runtime &&
      x.subscribers === r.subscribers &&
      x.ratePerS === r.ratePerS &&
      x.rounds > 0,
  )
}

function failureText(r: FanoutRow): string {
  const parts = Object.entries(r.failures).map(([k, v]) => `${k} × ${v}`)
  return [...parts, ...r.errors].join('; ')
}

function resultsTable(rows: FanoutRow[]): string {
  const lines = [
    '| server | subscribers | events/s | deliveries ok / expected | subscribers ok | latency p50 / p99 / max ms | CPU µs / delivery | × floor | server CPU % | RSS / subscriber KiB | events published / unsent, late p99 ms | load generator: busiest CPU % / lag p99 ms | other CPU s |',
    `|${' --- |'.repeat(13)}`,
  ]
  for (const r of rows) {
    const m = r.median
    const floor = floorOf(rows, r)
    const cpu = m('cpuUsPerDelivery')
    lines.push(
      `| ${r.row} | ${r.subscribers} | ${r.ratePerS} | ${f(m('deliveries'), 0)} / ${f(m('expected'), 0)} ` +
        `| ${f(m('subscribersOk'), 0)} | ${f(m('latencyP50Ms'))} / ${f(m('latencyP99Ms'))} / ${f(m('latencyMaxMs'), 0)} ` +
        `| ${f(cpu)} | ${r.kind === 'floor' ? '1.00×' : times(ratio(cpu, floor?.median('cpuUsPerDelivery') ?? 0))} ` +
        `| ${f(m('serverCpuPct'), 0)} | ${f(m('rssPerSubscriberKiB'), 2)} ` +
        `| ${f(m('published'), 0)} / ${f(m('unsent'), 0)}, ${f(m('publishLateP99Ms'))} | ${f(m('clientCpuPct'), 0)} / ${f(m('clientLagP99Ms'), 0)} ` +
        `| ${f(m('otherCpuMs') / 1000)} |`,
    )
  }
  return lines.join('\n')
}

function goalTable(rows: FanoutRow[]): string {
  const lines = [
    `| server | subscribers | events/s | CPU / delivery ≤ ${CPU_GOAL}× floor | p99 latency ≤ ${P99_GOAL}× floor's | CPU / delivery below better-sse's | every delivery made |`,
    `|${' --- |'.repeat(7)}`,
  ]
  for (const r of rows.filter((x) => x.kind === 'edge')) {
    const floor = floorOf(rows, r)
    const peer = rows.find(
      (x) =>
        x.kind === 'peer' && x.runtime === r.runtime && x.subscribers === r.subscribers && x.ratePerS === r.ratePerS,
    )
    const goal = (x: number, max: number) => (Number.isNaN(x) ? '❌ not measured' : `${mark(x <= max)} ${times(x)}`)
    const cpu = r.median('cpuUsPerDelivery')
    const cpuRatio = ratio(cpu, floor?.median('cpuUsPerDelivery') ?? 0)
    const p99Ratio = ratio(r.median('latencyP99Ms'), floor?.median('latencyP99Ms') ?? 0)
    const peerCpu = peer?.median('cpuUsPerDelivery')
    const vsPeer =
      r.runtime !== 'node'
        ? '—'
        : peerCpu === undefined || Number.isNaN(peerCpu)
          ? '❌ not measured'
          : `${mark(cpu < peerCpu)} ${f(cpu)} vs ${f(peerCpu)} µs`
    const all = r.rounds > 0 && r.median('deliveries') === r.median('expected') && r.errors.length === 0
    lines.push(
      `| ${r.row} | ${r.subscribers} | ${r.ratePerS} | ${r.rounds ? goal(cpuRatio, CPU_GOAL) : '❌ not measured'} ` +
        `| ${r.rounds ? goal(p99Ratio, P99_GOAL) : '❌ not measured'} | ${vsPeer} | ${mark(all)} |`,
    )
  }
  return lines.join('\n')
}

const setting = (r: { ratePerS: number; subscribers: number }) =>
  `${r.ratePerS}/s × ${r.subscribers.toLocaleString('en')}`

/**
 * The summary the README quotes: per row, CPU per delivery and p99 latency at
 * each setting, edge-sse's beside its runtime's floor (×).
 */
function summaryTable(rows: FanoutRow[]): string {
  const settings = [...new Map(rows.map((r) => [setting(r), r])).values()]
  const names = [...new Set(rows.map((r) => r.row))]
  const lines = [
    `| server | ${settings.map((x) => `${setting(x)}: CPU µs / delivery, p99 ms`).join(' | ')} |`,
    `|${' --- |'.repeat(settings.length + 1)}`,
  ]
  for (const name of names) {
    const cells = settings.map((x) => {
      const r = rows.find((y) => y.row === name && y.ratePerS === x.ratePerS && y.subscribers === x.subscribers)
      if (!r || r.rounds === 0) return '—'
      const floor = r.kind === 'floor' ? undefined : floorOf(rows, r)
      const vs = (m: Metric) => (floor ? ` (${times(ratio(r.median(m), floor.median(m)))})` : '')
      const missed = r.median('deliveries') < r.median('expected') ? ', not every delivery made' : ''
      return `${f(r.median('cpuUsPerDelivery'))}${vs('cpuUsPerDelivery')}, ${f(r.median('latencyP99Ms'), 0)}${vs('latencyP99Ms')}${missed}`
    })
    lines.push(`| ${name} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

/** The fan-out section (issue 14) of `run`; `link` is the path of its JSON from the report. */
export function fanoutSection(run: RunFile, link: string): string {
  const rows = fanoutRows(run.fanout ?? [])
  const o = run.fanoutOptions
  const failures = rows.filter((r) => Object.keys(r.failures).length > 0 || r.errors.length > 0)
  const notes = fanoutServers.filter((d) => d.note && rows.some((r) => r.row === d.name))
  return `## Fan-out: one topic, many subscribers (issue 14)

Run ${run.startedAt} – ${run.finishedAt}, src ${run.machine.src}, \`${run.command}\`${run.quick ? ' (**quick run**: one round, short; noisy)' : ''}.

- Each test: S subscribers open \`GET\` on one topic (raw \`node:net\` sockets in ${o?.clientProcs} load generator processes, ${o?.connectPerS} connections/s, not measured), then a publisher process posts ${o?.publishS} s of events at a fixed rate, one request at a time on one keep-alive connection (so the rate is a ceiling: a server slow to answer is published to late, and what could not be sent within 30 s of the plan stays unsent), each event's data \`<n> <publish time>\` on the machine's monotonic clock (shared by every process). A subscriber checks it gets 1, 2, … once each and in order, and records receipt − publish time (10 µs buckets). A subscriber without the last event ${(o?.drainMs ?? 0) / 1000} s after the last publish counts the rest as missing.
- Settings (events/s × subscribers): ${(o?.settings ?? []).map((x) => `${x.ratePerS}/s × ${x.subscribers}`).join(', ')}. 50/s at 1,000 is the same 50,000 deliveries/s as 10/s at 5,000, in five times as many events 20 ms apart, so what each publish costs (the request, waking every cursor) weighs five times more; 50/s at 5,000 or 10,000 would ask this 2-core machine for 250,000–500,000 deliveries/s, several times what one runtime thread delivers here.
- CPU µs / delivery: utime + stime of the server process (all threads, its kernel time for the sockets included) from the first publish to the last delivery, ÷ deliveries; server CPU %: the same over the window's length (100 % is one core: a runtime's JavaScript thread is then full, and latency is the length of its queue). RSS / subscriber: VmHWM (reset before the subscribers connect) − idle VmRSS, ÷ S. Publish late: how late the publisher sent against its schedule (the server had not answered the previous publish yet).
- Load generator: CPU of its busiest process over the delivery window (100 % is a saturated core: its latency figures then include its own queueing) and its event-loop delay p99. Other CPU: the machine's busy CPU minus the servers' and the load generator's: other processes.
- Rows: **edge-sse** is the demo (src/servers/) on \`/topics/:name\`, publishing through \`POST\` with \`SSE_PUBLISH_TOKEN\`, history 100. **floor** is the bare runtime delivering the same bytes, frames encoded once and held in a ring of 100 (bench/fanout-floors/): \`node:http\` writing one shared buffer to every response; on Bun, Deno and workerd a plain pull \`ReadableStream\` (highWaterMark 0) per subscriber, a cursor over the shared frames. Every row takes publishes the same way, \`POST\` with the data as a text/plain body. **better-sse Channel** registers a session per subscriber and \`broadcast\`s each publish (bench/peers/better-sse-channel.ts).
${notes.map((d) => `- ${d.name}: ${d.note}.`).join('\n')}

### Summary

Medians over the rounds; in brackets, edge-sse's and better-sse's over their runtime's floor.

${summaryTable(rows)}

### All figures

${resultsTable(rows)}

### Goals (issue 14)

CPU per delivery at most ${CPU_GOAL}× the floor's and below better-sse's on Node; p99 latency at most ${P99_GOAL}× the floor's.

${goalTable(rows)}
${
  failures.length === 0
    ? ''
    : `
### Failures

${failures.map((r) => `- ${r.row}, ${r.subscribers} subscribers, ${r.ratePerS}/s: ${failureText(r)}`).join('\n')}
`
}
Raw data: [${link}](${link})
`
}

function redisTable(rows: FanoutRow[]): string {
  const lines = [
    '| row | deliveries ok / expected | latency p50 / p99 / max ms | CPU µs / delivery: A / B / C / Redis | servers in all | load generator: busiest CPU % / lag p99 ms |',
    `|${' --- |'.repeat(6)}`,
  ]
  for (const r of rows) {
    const m = r.median
    const perProcess = r.viaRedis
      ? ['A', 'B', 'C', 'redis-server'].map((p) => f(r.process(p, 'cpuUsPerDelivery'))).join(' / ')
      : `one server: ${f(r.process('server', 'cpuUsPerDelivery'))}`
    const servers = r.viaRedis ? ['A', 'B', 'C'] : ['server']
    const serversCpu = servers.reduce((s, p) => s + r.process(p, 'cpuMs'), 0)
    lines.push(
      `| ${r.row} | ${f(m('deliveries'), 0)} / ${f(m('expected'), 0)} | ${f(m('latencyP50Ms'))} / ${f(m('latencyP99Ms'))} / ${f(m('latencyMaxMs'), 0)} ` +
        `| ${perProcess} | ${f((serversCpu * 1000) / m('deliveries'))} | ${f(m('clientCpuPct'), 0)} / ${f(m('clientLagP99Ms'), 0)} |`,
    )
  }
  return lines.join('\n')
}

function redisGoals(rows: FanoutRow[]): string {
  const lines = [
    `| runtime | p99 ≤ ${REDIS_P99_GOAL}× in-process | CPU / delivery on A and B ≤ ${REDIS_CPU_GOAL}× in-process | every delivery made |`,
    `|${' --- |'.repeat(4)}`,
  ]
  for (const r of rows.filter((x) => x.viaRedis)) {
    const local = rows.find((x) => x.runtime === r.runtime && !x.viaRedis && x.rounds > 0)
    const base = local?.median('latencyP99Ms') ?? 0
    const p99 = ratio(r.median('latencyP99Ms'), base)
    const localCpu = local?.process('server', 'cpuUsPerDelivery') ?? 0
    const cpus = ['A', 'B'].map((p) => ratio(r.process(p, 'cpuUsPerDelivery'), localCpu))
    const worst = Math.max(...cpus)
    const all = r.rounds > 0 && r.median('deliveries') === r.median('expected') && r.errors.length === 0
    lines.push(
      `| ${r.runtime} | ${r.rounds && !Number.isNaN(p99) ? `${mark(p99 <= REDIS_P99_GOAL)} ${f(p99, 2)}×` : '❌ not measured'} ` +
        `| ${r.rounds && !Number.isNaN(worst) ? `${mark(worst <= REDIS_CPU_GOAL)} ${cpus.map((x) => `${f(x, 2)}×`).join(' / ')}` : '❌ not measured'} ` +
        `| ${mark(all)} |`,
    )
  }
  return lines.join('\n')
}

/** The summary the README quotes: per runtime, the Redis row beside the in-process one. */
function redisSummary(rows: FanoutRow[]): string {
  const lines = [
    '| runtime | p99 ms: in-process → via Redis | CPU µs / delivery, a subscribing server: in-process → via Redis (A, B) | publishing server (C), µs / delivery | redis-server, µs / delivery | every delivery made |',
    `|${' --- |'.repeat(6)}`,
  ]
  const over = (x: number, base: number) => {
    const q = ratio(x, base)
    return Number.isNaN(q) ? '?' : `${f(q, 2)}×`
  }
  for (const r of rows.filter((x) => x.viaRedis && x.rounds > 0)) {
    const local = rows.find((x) => x.runtime === r.runtime && !x.viaRedis && x.rounds > 0)
    const [localP99, p99] = [local?.median('latencyP99Ms') ?? Number.NaN, r.median('latencyP99Ms')]
    const localCpu = local?.process('server', 'cpuUsPerDelivery') ?? Number.NaN
    const cpu = ['A', 'B'].map((p) => r.process(p, 'cpuUsPerDelivery'))
    const all = [r, ...(local ? [local] : [])].every(
      (x) => x.median('deliveries') === x.median('expected') && x.errors.length === 0,
    )
    lines.push(
      `| ${r.runtime} | ${f(localP99, 0)} → ${f(p99, 0)} (${over(p99, localP99)}) ` +
        `| ${f(localCpu)} → ${cpu.map((x) => f(x)).join(', ')} (${cpu.map((x) => over(x, localCpu)).join(', ')}) ` +
        `| ${f(r.process('C', 'cpuUsPerDelivery'))} | ${f(r.process('redis-server', 'cpuUsPerDelivery'))} | ${mark(all)} |`,
    )
  }
  return lines.join('\n')
}

/** The Redis section (issue 15) of `run`. */
export function redisSection(run: RunFile, link: string): string {
  const rows = fanoutRows(run.redis ?? [])
  const failures = rows.filter((r) => Object.keys(r.failures).length > 0 || r.errors.length > 0)
  const s = run.fanoutOptions?.redisSubscribers
  return `## Topics through Redis (issue 15)

Run ${run.startedAt} – ${run.finishedAt}, src ${run.machine.src}, \`${run.command}\`${run.quick ? ' (**quick run**: one round, short; noisy)' : ''}.

- **via Redis**: a redis-server of its own for the test (free port, temp dir, \`--save '' --appendonly no\`), three server processes with \`REDIS_URL\`: A and B with ${s ? s / 2 : '?'} subscribers each (two load generator groups), C taking the publishes, 10 events/s, measured as the fan-out rows are. CPU per delivery of A and B: over their own subscribers' deliveries; of C (it has no subscribers) and Redis: over every delivery.
- **in-process**: the same load (${s} subscribers in the same two groups, 10/s) on one server's in-process topic: what crossing processes costs is the difference.

### Summary

Medians over the rounds; in brackets, via Redis over in-process.

${redisSummary(rows)}

### All figures

${redisTable(rows)}

### Goals (issue 15)

${redisGoals(rows)}
${
  failures.length === 0
    ? ''
    : `
### Failures

${failures.map((r) => `- ${r.row}: ${failureText(r)}`).join('\n')}
`
}
Raw data: [${link}](${link})
`
}
