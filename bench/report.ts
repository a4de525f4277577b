/**
 * Turns a run file into bench/RESULTS.md (full runs) or results/<stamp>-quick.md
 * (quick runs, so a fast look never overwrites the committed result), with an
 * SVG chart of the streams rows written as a plain string: no charting
 * dependency. The fan-out and Redis sections come from fanout/report.ts. Re-render a
 * saved run with `node bench/report.ts bench/results/<stamp>.json`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, relative, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { fanoutSection, redisSection } from './fanout/report.ts'
import type { RunFile, TestResult } from './run.ts'
import { type Kind, root, type ServerDef, servers } from './servers.ts'

type Metric = Exclude<keyof TestResult, 'server' | 'failures' | 'error'>

export interface Row {
  server: string
  n: number
  rounds: number
  median: (m: Metric) => number
  worst: (m: Metric) => number
  failures: Record<string, number>
  errors: string[]
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length === 0 ? 0 : s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

/** Groups the tests by server and N (report order: servers.ts order, then N). */
export function rows(run: RunFile): Row[] {
  const out: Row[] = []
  for (const def of servers) {
    for (const n of run.options.ns) {
      const all = run.tests.filter((t) => t.server === def.name && t.n === n)
      if (all.length === 0) continue
      // A test that errored (server did not start, generator timed out) has no measurements.
      const good = all.filter((t) => !t.error)
      const failures: Record<string, number> = {}
      for (const t of all) for (const [k, v] of Object.entries(t.failures)) failures[k] = (failures[k] ?? 0) + v
      out.push({
        server: def.name,
        n,
        rounds: good.length,
        median: (m) => median(good.map((t) => t[m])),
        worst: (m) => Math.max(...all.map((t) => t[m])),
        failures,
        // On one line: the error carries the server's stderr, and the report lists it in Markdown.
        errors: all.flatMap((t) => (t.error ? [`round ${t.round}: ${t.error.replace(/\s+/g, ' ')}`] : [])),
      })
    }
  }
  return out
}

const f = (x: number, digits = 1) => x.toFixed(digits)

function table(rs: Row[]): string {
  const head =
    '| server | N | ok / failed | events recv / exp | headers p50 / p99 ms | jitter p50 / p99 / max ms ' +
    '| peak open | peak RSS MiB | RSS / stream KiB | CPU ms / stream | listen overflows | other CPU s |'
  const lines = [head, `|${' --- |'.repeat(12)}`]
  for (const r of rs) {
    const m = r.median
    lines.push(
      `| ${r.server} | ${r.n} | ${m('ok')} / ${m('failed')} | ${m('events')} / ${m('expected')} ` +
        `| ${f(m('ttfbP50'))} / ${f(m('ttfbP99'))} | ${f(m('jitterP50'))} / ${f(m('jitterP99'))} / ${f(m('jitterMax'))} ` +
        `| ${m('peakOpen') || '?'} | ${f(m('peakRssKiB') / 1024)} | ${f(m('rssPerStreamKiB'), 2)} | ${f(m('cpuMsPerStream'), 3)} ` +
        `| ${m('listenOverflows')} | ${f((m('otherCpuMs') || 0) / 1000)} |`,
    )
  }
  return lines.join('\n')
}

/** Per-stream figures of the rows at the largest N, each beside its runtime's floor. */
interface Overhead {
  row: Row
  kind: Kind
  runtime: ServerDef['runtime']
  floor: Row | undefined
  rss: number
  cpu: number
  /** Row ÷ floor; NaN when there is no floor row (or it measured nothing) to divide by. */
  rssRatio: number
  cpuRatio: number
}

// The issue's goal: edge-sse costs at most 5 % more per stream than its runtime serving the same bytes bare.
const OVERHEAD_GOAL = 1.05

function overheads(rs: Row[], top: number): Overhead[] {
  const at = (name: string) => rs.find((r) => r.server === name && r.n === top && r.rounds > 0)
  const ratio = (v: number, base: number | undefined) => (base !== undefined && base > 0 ? v / base : Number.NaN)
  const out: Overhead[] = []
  // The floors speak HTTP/1.1 in clear: HTTP/2 rows are set beside their HTTP/1.1 rows instead (h2Table).
  for (const def of servers.filter((s) => !s.http2)) {
    const row = at(def.name)
    if (!row) continue
    const floorDef = servers.find((s) => s.kind === 'floor' && s.runtime === def.runtime)
    const floor = floorDef && at(floorDef.name)
    const rss = row.median('rssPerStreamKiB')
    const cpu = row.median('cpuMsPerStream')
    out.push({
      row,
      kind: def.kind,
      runtime: def.runtime,
      floor,
      rss,
      cpu,
      rssRatio: ratio(rss, floor?.median('rssPerStreamKiB')),
      cpuRatio: ratio(cpu, floor?.median('cpuMsPerStream')),
    })
  }
  // Grouped by runtime, in the order of the floors: each floor, then the rows it is the floor of.
  const order = servers.filter((s) => s.kind === 'floor').map((s) => s.runtime)
  const rank = (o: Overhead) => order.indexOf(o.runtime) * 2 + (o.kind === 'floor' ? 0 : 1)
  return out.sort((a, b) => rank(a) - rank(b))
}

const times = (x: number) => (Number.isNaN(x) ? 'no floor' : `${f(x, 2)}×`)

function overheadTable(os: Overhead[]): string {
  const lines = [
    '| server | floor | RSS / stream KiB | × floor | CPU ms / stream | × floor |',
    `|${' --- |'.repeat(6)}`,
  ]
  for (const o of os) {
    const floor = o.kind === 'floor'
    const [rss, cpu] = floor ? ['1.00×', '1.00×'] : [times(o.rssRatio), times(o.cpuRatio)]
    lines.push(
      `| ${o.row.server} | ${floor ? '—' : (o.floor?.server ?? '—')} | ${f(o.rss, 2)} | ${rss} | ${f(o.cpu, 3)} | ${cpu} |`,
    )
  }
  return lines.join('\n')
}

/** Each HTTP/2 row beside the HTTP/1.1 row of the same server: what TLS and HTTP/2 cost per stream. */
function h2Table(rs: Row[], top: number): string {
  const at = (name: string) => rs.find((r) => r.server === name && r.n === top && r.rounds > 0)
  const ratio = (v: number, base: number) => (base > 0 ? `${f(v / base, 2)}×` : '?')
  const lines = [
    '| server | RSS / stream KiB, HTTP/1.1 → HTTP/2 | × | CPU ms / stream, HTTP/1.1 → HTTP/2 | × |',
    `|${' --- |'.repeat(5)}`,
  ]
  for (const def of servers.filter((s) => s.http2)) {
    const h2 = at(def.name)
    const h1def = servers.find((s) => !s.http2 && s.kind === def.kind && s.runtime === def.runtime)
    const h1 = h1def && at(h1def.name)
    if (!h2 || !h1) continue
    const [rss1, rss2] = [h1.median('rssPerStreamKiB'), h2.median('rssPerStreamKiB')]
    const [cpu1, cpu2] = [h1.median('cpuMsPerStream'), h2.median('cpuMsPerStream')]
    lines.push(
      `| ${def.name} | ${f(rss1, 2)} → ${f(rss2, 2)} | ${ratio(rss2, rss1)} | ${f(cpu1, 3)} → ${f(cpu2, 3)} | ${ratio(cpu2, cpu1)} |`,
    )
  }
  return lines.length > 2 ? lines.join('\n') : ''
}

interface Goal {
  text: string
  value: string
  met: boolean
}

/** The absolute goals: memory and CPU per stream at the largest N. */
function goals(rs: Row[], top: number): Goal[] {
  const out: Goal[] = []
  const limit = (server: string, metric: Metric, max: number, text: string, unit: string) => {
    const r = rs.find((row) => row.server === server && row.n === top)
    if (!r || r.rounds === 0) return out.push({ text: `${text} (at ${top})`, value: 'not measured', met: false })
    const v = r.median(metric)
    out.push({ text: `${text} (at ${top})`, value: `${f(v, 3)} ${unit}`, met: v <= max })
  }
  limit('edge-sse node', 'rssPerStreamKiB', 13, 'Node RSS per stream ≤ 13 KiB', 'KiB')
  limit('edge-sse node', 'cpuMsPerStream', 0.2, 'Node CPU per stream ≤ 0.2 ms', 'ms')
  limit('edge-sse bun', 'rssPerStreamKiB', 7, 'Bun RSS per stream ≤ 7 KiB', 'KiB')
  limit('edge-sse deno', 'rssPerStreamKiB', 30, 'Deno RSS per stream ≤ 30 KiB', 'KiB')
  return out
}

const mark = (met: boolean) => (met ? '✅' : '❌')

/**
 * The goals every edge-sse row is held to, one row each: latency and failures
 * at every N, overhead over its runtime's floor at the largest N.
 */
function goalTable(rs: Row[], os: Overhead[]): string {
  const lines = [
    `| server | headers p99 ≤ 50 ms (worst N) | jitter p99 ≤ 20 ms (worst N) | 0 failed clients (all rounds) | RSS / stream ≤ ${OVERHEAD_GOAL}× floor | CPU / stream ≤ ${OVERHEAD_GOAL}× floor |`,
    `|${' --- |'.repeat(6)}`,
  ]
  const ratio = (x: number) => (Number.isNaN(x) ? '❌ no floor' : `${mark(x <= OVERHEAD_GOAL)} ${times(x)}`)
  for (const def of servers.filter((s) => s.kind === 'edge' || s.kind === 'own-events')) {
    const mine = rs.filter((r) => r.server === def.name)
    if (mine.length === 0) continue
    // Latency over the Ns that measured anything: a test that errored has no figures.
    const measured = mine.filter((r) => r.rounds > 0)
    const worst = (metric: Metric, max: number) => {
      if (measured.length === 0) return '❌ not measured'
      const v = Math.max(...measured.map((r) => r.median(metric)))
      return `${mark(v <= max)} ${f(v)} ms`
    }
    // Failures count over every round, not the median: one failed client is one too many.
    const failed = mine.reduce((s, r) => s + Object.values(r.failures).reduce((a, b) => a + b, 0), 0)
    const errors = mine.reduce((s, r) => s + r.errors.length, 0)
    const o = os.find((x) => x.row.server === def.name)
    // No floor speaks HTTP/2: those rows are held to latency and failures only.
    const overhead = (x: number | undefined) =>
      def.http2 ? '— (HTTP/1.1 floors)' : x === undefined ? '❌ not measured' : ratio(x)
    lines.push(
      `| ${def.name} | ${worst('ttfbP99', 50)} | ${worst('jitterP99', 20)} ` +
        `| ${mark(failed === 0 && errors === 0)} ${failed} failed${errors ? `, ${errors} tests errored` : ''} ` +
        `| ${overhead(o?.rssRatio)} | ${overhead(o?.cpuRatio)} |`,
    )
  }
  return lines.join('\n')
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** Two panels of grouped horizontal bars: RSS per stream and jitter p99, one bar per N. */
export function chart(rs: Row[], ns: number[]): string {
  const names = servers.map((s) => s.name).filter((name) => rs.some((r) => r.server === name))
  const shades = ['#9ecae1', '#4292c6', '#08519c', '#08306b']
  const bar = 10
  const group = ns.length * bar + 8
  const label = 170
  const width = 360
  const panelH = names.length * group + 40
  const panel = (x0: number, title: string, metric: Metric, unit: string) => {
    const max = Math.max(1e-9, ...rs.map((r) => r.median(metric)))
    let s = `<text x="${x0}" y="16" font-weight="bold">${esc(title)}</text>`
    names.forEach((name, gi) => {
      const y = 28 + gi * group
      if (x0 === 0)
        s += `<text x="${label - 6}" y="${y + (ns.length * bar) / 2 + 4}" text-anchor="end">${esc(name)}</text>`
      ns.forEach((n, ni) => {
        const r = rs.find((row) => row.server === name && row.n === n)
        if (!r) return
        const v = r.median(metric)
        const w = Math.max(1, (v / max) * (width - 70))
        const by = y + ni * bar
        s += `<rect x="${x0 + label}" y="${by}" width="${w.toFixed(1)}" height="${bar - 1}" fill="${shades[ni % shades.length]}"/>`
        s += `<text x="${(x0 + label + w + 4).toFixed(1)}" y="${by + bar - 2}" font-size="9">${f(v, 2)} ${unit}</text>`
      })
    })
    return s
  }
  const legend = ns
    .map(
      (n, i) =>
        `<rect x="${label + i * 80}" y="${panelH - 8}" width="10" height="10" fill="${shades[i % shades.length]}"/>` +
        `<text x="${label + i * 80 + 14}" y="${panelH + 1}">N=${n}</text>`,
    )
    .join('')
  const total = 2 * (label + width)
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${panelH + 10}" ` +
    `font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    panel(0, 'RSS per stream (KiB, median)', 'rssPerStreamKiB', 'KiB') +
    panel(label + width, 'Tick jitter p99 (ms, median)', 'jitterP99', 'ms') +
    legend +
    '</svg>\n'
  )
}

/** A hand-written part of the report (what was optimised, the soak run), if it exists. */
function included(path: string): string {
  return existsSync(path) ? `\n${readFileSync(path, 'utf8').trim()}\n` : ''
}

/**
 * The streams section (one stream per client) of `run`, whose JSON is at
 * `jsonPath`, for a report at `mdPath`; writes its chart next to the JSON
 * when `chartToo`.
 */
function streamsSection(run: RunFile, jsonPath: string, mdPath: string, chartToo: boolean): string {
  const rs = rows(run)
  const svgPath = `${dirname(jsonPath)}/${basename(jsonPath, '.json')}.svg`
  if (chartToo) writeFileSync(svgPath, chart(rs, run.options.ns))
  const link = (p: string) => relative(dirname(mdPath), p)
  const m = run.machine
  const top = Math.max(...run.options.ns)
  const os = overheads(rs, top)
  const gs = goals(rs, top)
  const h2 = h2Table(rs, top)
  const h2Method = run.options.streamsPerSession
    ? `- HTTP/2 rows (\`… h2\`): the same server with \`TLS_CERT_FILE\`/\`TLS_KEY_FILE\` (a self-signed P-256 certificate made with openssl for the run), and the clients on \`node:http2\` over TLS, ${run.options.streamsPerSession} streams multiplexed per session as a browser does on one origin, each session from the next source address; same checks per stream, END_STREAM as the clean end. Their headers time starts at the stream's request, so a session's first streams include its TLS handshake.\n`
    : ''
  const failures = rs.filter((r) => Object.keys(r.failures).length > 0 || r.errors.length > 0)
  return `The streams rows (one stream per client, a source of its own): run ${run.startedAt} – ${run.finishedAt}.

Command: \`${run.command}\`

## Machine

| | |
| --- | --- |
| CPU | ${m.cpu} × ${m.cores} |
| memory | ${m.memoryGiB} GiB |
| kernel | ${m.kernel} |
| src measured | ${m.src ?? 'not recorded in this run file'} |
| runtimes | Node ${m.node}, Bun ${m.bun}, ${String(m.deno).replace(/ \(.*/, '')}, ${m.workerd} |
| net.core.somaxconn | ${m.somaxconn} |
| ephemeral ports | ${m.portRange} (clients spread over 127.0.0.2–127.0.0.9) |
| fd limit (server and clients) | ${m.nofile} |

## Method

- Stream: ${run.options.frames} frames, one every ${run.options.intervalMs} ms, then the response ends.
- ${run.options.rounds} round(s); per round, for each N in ${run.options.ns.join(', ')}, every server runs alone, order rotated per round. Table values are medians over rounds.
- Clients: raw \`node:net\` sockets in ${run.options.clientProcs} separate process(es), ramped evenly over ${run.options.rampMs.join(' / ')} ms for N ${run.options.ns.join(' / ')}${run.options.ratePerS ? ` (${run.options.ratePerS} connections/s)` : ''}; HTTP/1.1 with \`Connection: close\`, chunked decoding and a spec event-stream parser. A client is ok when it gets 200, \`text/event-stream\`, frames 1..${run.options.frames} in order and the end of the body.
- Peak open: most streams open at once, as the clients saw it. Other CPU: machine-wide busy CPU during the test minus the server's and the clients' own, i.e. noise from other processes.
- Headers: from \`connect()\` to the end of the response head. Jitter: |gap − interval| between consecutive frames of one client.
${h2Method}- Server memory: VmHWM of the server process itself (reset with \`/proc/<pid>/clear_refs\` after a 50-stream warm-up) minus its idle VmRSS; per stream = that / N. CPU: utime + stime (all threads, kernel time for the sockets included) of the server process over the load window, / N. Listen overflows: TcpExt ListenOverflows delta.
- Rows: **edge-sse** is the demo (\`createApp\`, src/servers/); **own-events** is edge-sse the way a user serves their own events, \`eventStreamResponse\` with an async generator that waits on a signal-aware sleep (bench/own-events/); **floor** is the bare runtime (\`node:http\`, \`Bun.serve\`, \`Deno.serve\`, a bare Worker) answering with the same headers and bytes from a plain pull \`ReadableStream\`, no Hono, no edge-sse (bench/floors/): the baseline of its runtime; the others are peers (bench/peers/). Every row sends \`retry:\` and then the frames, except the seed, which sends the frames only.
- workerd runs directly (\`workerd serve <config>.capnp\`), not behind \`wrangler dev\`'s Node proxy: bench/workerd.capnp serves the wrangler bundle of src/servers/worker.ts, bench/floors/ and bench/own-events/ their own esbuild bundles, all with the same compatibility date and flags.
- Server stdout (one log line per stream end) goes to /dev/null.

## Results

${table(rs)}

![RSS per stream and jitter p99](${link(svgPath)})

## edge-sse over its runtime's floor (N = ${top})

Per-stream RSS and CPU of each row ÷ those of its runtime's floor (the bare runtime serving the same bytes,
bench/floors/): what edge-sse, or a peer, costs on top of the runtime itself. Goal for edge-sse: ≤ ${OVERHEAD_GOAL}×.

${overheadTable(os)}
${
  h2
    ? `
## HTTP/2 over TLS beside HTTP/1.1 (N = ${top})

Per-stream RSS and CPU of each HTTP/2 row against the same server on HTTP/1.1 in clear: what TLS and HTTP/2 cost a
stream (the TLS session, the HTTP/2 stream state, encryption of every frame), server side.

${h2}
`
    : ''
}
## Goals

${gs.map((g) => `- ${g.met ? '**met**' : '**not met**'}: ${g.text}: ${g.value}`).join('\n')}

${goalTable(rs, os)}
${
  failures.length === 0
    ? ''
    : `
## Failures

${failures
  .map(
    (r) =>
      `- ${r.server} N=${r.n}: ${
        Object.entries(r.failures)
          .map(([k, v]) => `${k} × ${v}`)
          .join(', ') || 'no client failures'
      }${r.errors.length ? `; ${r.errors.join('; ')}` : ''}`,
  )
  .join('\n')}
`
}
Raw data: [${link(jsonPath)}](${link(jsonPath)})
${included(`${root}bench/notes.md`)}${included(`${dirname(jsonPath)}/soak-latest.md`)}`
}

/**
 * The newest full (not quick) run in bench/results/ for which `has` holds,
 * and its path: a full run of some suites keeps the others' sections from
 * their own last full run.
 */
function latestFull(has: (run: RunFile) => boolean): { run: RunFile; path: string } | undefined {
  const dir = `${root}bench/results`
  // Run files are named by their start, <stamp>.json; quick ones end in -quick.
  const names = readdirSync(dir)
    .filter((name) => /^\d{4}-\d\d-\d\dT[\d-]+\.json$/.test(name))
    .sort()
    .reverse()
  for (const name of names) {
    const run = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')) as RunFile
    if (!run.quick && has(run)) return { run, path: `${dir}/${name}` }
  }
  return undefined
}

/**
 * Writes the report of `run` (its JSON at `jsonPath`): to results/<stamp>.md
 * for a quick run, with only what it ran; to bench/RESULTS.md for a full run,
 * each suite from this run or else from its last full run. Returns the path.
 */
export function writeReport(run: RunFile, jsonPath: string): string {
  const mdPath = run.quick ? `${dirname(jsonPath)}/${basename(jsonPath, '.json')}.md` : `${root}bench/RESULTS.md`
  const link = (p: string) => relative(dirname(mdPath), p)
  const from = (has: (r: RunFile) => boolean) =>
    has(run) ? { run, path: jsonPath } : run.quick ? undefined : latestFull(has)
  const streams = from((r) => r.tests.length > 0)
  const fanout = from((r) => (r.fanout?.length ?? 0) > 0)
  const redis = from((r) => (r.redis?.length ?? 0) > 0)
  const pending = (heading: string, suite: string) =>
    run.quick ? '' : `${heading}\n\nNo full run yet: \`npm run bench -- --suites ${suite}\`.\n`
  const md = [
    '# edge-sse benchmark\n\nGenerated by `bench/run.ts`; do not edit by hand.\n',
    streams ? streamsSection(streams.run, streams.path, mdPath, streams.run === run) : '',
    fanout
      ? `${fanoutSection(fanout.run, link(fanout.path))}${included(`${root}bench/fanout/notes.md`)}`
      : pending('## Fan-out: one topic, many subscribers (issue 14)', 'fanout'),
    redis
      ? `${redisSection(redis.run, link(redis.path))}${included(`${root}bench/fanout/redis-notes.md`)}`
      : pending('## Topics through Redis (issue 15)', 'redis'),
  ]
  writeFileSync(mdPath, md.filter((part) => part !== '').join('\n'))
  // Biome formats Markdown too (it pads table columns): format so `biome check` passes.
  spawnSync(`${root}node_modules/.bin/biome`, ['format', '--write', mdPath], { cwd: root, stdio: 'ignore' })
  return mdPath
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const path = resolve(process.argv[2])
  console.log(writeReport(JSON.parse(readFileSync(path, 'utf8')) as RunFile, path))
}
