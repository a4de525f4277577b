/**
 * Where a Node server's CPU went over each test's delivery window: reads the
 * CPU profiles a `--cpu-prof` run wrote (fanout/run.ts) and prints, per test,
 * the share of the main thread's busy samples inside the window by part (the
 * kernel's socket writes, Web Streams, @hono/node-server, edge-sse, …), then
 * the functions that took the most. A sample counts the wall time since the
 * one before, which on a busy machine includes time the thread waited for a
 * core: the shares are turned into µs per delivery by scaling them to the
 * CPU /proc measured, not taken as times of their own.
 *
 *   node bench/fanout/profile.ts bench/results/<stamp>.json [functions=15]
 *
 * The profile's sample times and the window are both on the machine's
 * monotonic clock, so the window's edges are exact.
 */
import { existsSync, readFileSync } from 'node:fs'
import process from 'node:process'
import type { RunFile } from '../run.ts'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface Profile {
  nodes: { id: number; callFrame: CallFrame }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The part of the server a function belongs to. */
function part({ functionName: name, url }: CallFrame): string {
  if (name === '(idle)') return 'idle'
  if (name === '(garbage collector)') return 'garbage collector'
  if (name === '(program)') return 'V8 and native, unattributed'
  if (url === '' && /^write/.test(name)) return 'socket writes (syscalls)'
  if (url.includes('internal/webstreams')) return "Node's Web Streams"
  if (url.includes('@hono/node-server')) return '@hono/node-server'
  if (url.includes('node_modules/hono/')) return 'Hono'
  if (url.includes('/src/lib/')) return 'edge-sse (src/lib)'
  if (url.includes('node_modules/better-sse')) return 'better-sse'
  if (url.includes('/bench/')) return 'the bench server itself'
  if (url.includes('task_queues') || name === 'runMicrotasks') return 'ticks and microtasks'
  if (/^node:_?http/.test(url)) return 'node:http'
  if (url.startsWith('node:')) return 'node:net, streams, other internals'
  return url === '' ? `native: ${name}` : 'other'
}

const where = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`

function summarize(path: string, window: [number, number], cpuUsPerDelivery: number, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const parts = new Map<string, number>()
  const functions = new Map<string, number>()
  // Sample i is taken at startTime + the sum of the deltas up to it; each stands for the time since the one before.
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    t += dt
    if (t < window[0] || t > window[1]) continue
    const frame = frames.get(profile.samples[i] as number) as CallFrame
    const p = part(frame)
    parts.set(p, (parts.get(p) ?? 0) + dt)
    if (p !== 'idle') functions.set(where(frame), (functions.get(where(frame)) ?? 0) + dt)
  }
  const busy = [...parts].filter(([p]) => p !== 'idle').reduce((s, [, us]) => s + us, 0)
  const share = (us: number) =>
    `${((100 * us) / busy).toFixed(1).padStart(5)} %  ≈ ${((us / busy) * cpuUsPerDelivery).toFixed(2).padStart(5)} µs`
  const lines = [`  ${(busy / 1000).toFixed(0)} ms of busy samples in the window`]
  for (const [p, us] of [...parts].filter(([p]) => p !== 'idle').sort((a, b) => b[1] - a[1])) {
    if (us / busy >= 0.001) lines.push(`  ${share(us)}  ${p}`)
  }
  lines.push('  top functions:')
  for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${share(us)}  ${name}`)
  }
  return lines.join('\n')
}

const [file, topArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/fanout/profile.ts bench/results/<stamp>.json [functions=15]')
  process.exit(1)
}
const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile
for (const r of [...(run.fanout ?? []), ...(run.redis ?? [])]) {
  for (const p of r.processes) {
    if (!p.cpuProfile) continue
    const head = `${r.row} (${p.name}), ${r.subscribers} subscribers, ${r.ratePerS}/s, round ${r.round}: ${p.cpuUsPerDelivery.toFixed(1)} µs CPU per delivery (/proc)`
    if (!existsSync(p.cpuProfile)) {
      console.log(`${head}\n  no profile at ${p.cpuProfile}`)
      continue
    }
    console.log(`${head}\n${summarize(p.cpuProfile, r.windowUs, p.cpuUsPerDelivery, Number(topArg ?? 15))}`)
  }
}
