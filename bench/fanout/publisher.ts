/**
 * Fan-out publisher: POSTs events 1..`events` to a server at a fixed rate,
 * each carrying `<n> <publish time in µs>` (clock.ts) as its text/plain data,
 * one request at a time on one keep-alive connection so the server gets them
 * in order. The time is stamped as the request is sent, so a server slow to
 * take a publish shows as latency, and the publisher reports how late it sent
 * against its schedule: the rate is a ceiling, which a server too slow to
 * answer in time lowers. Forked by fanout/run.ts: `start` in, `result` out.
 */
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { setTimeout as sleep } from 'node:timers/promises'
import { percentile } from '../client.ts'
import { monotonicUs } from './clock.ts'

export interface PublishOptions {
  port: number
  path: string
  /** `Authorization: Bearer <token>`, for edge-sse's route. */
  token: string
  events: number
  ratePerS: number
  /** A publish not answered in this long fails, and the run goes on with the next. */
  timeoutMs: number
  /** Events still unsent this long after the first are not sent: the server is too slow for the rate. */
  deadlineMs: number
}

export interface PublishResult {
  /** Publishes answered 201. */
  published: number
  /** Events not sent by the deadline. */
  unsent: number
  /** The number of the last event answered 201: the last a subscriber can get. */
  last: number
  failures: Record<string, number>
  /** How late each publish was sent against its schedule (the previous one had not been answered yet). */
  lateP99Ms: number
  lateMaxMs: number
  durationMs: number
}

export type ToPublisher = { type: 'start'; options: PublishOptions }
export type FromPublisher = { type: 'ready' } | { type: 'result'; result: PublishResult }

function post(agent: http.Agent, options: PublishOptions, body: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        timeout: options.timeoutMs,
        headers: {
          'Content-Type': 'text/plain',
          'Content-Length': Buffer.byteLength(body),
          Authorization: `Bearer ${options.token}`,
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    req.end(body)
  })
}

async function publish(options: PublishOptions): Promise<PublishResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const intervalMs = 1000 / options.ratePerS
  const late: number[] = []
  const failures: Record<string, number> = {}
  let published = 0
  let last = 0
  const t0 = performance.now()
  let k = 1
  for (; k <= options.events && performance.now() - t0 < options.deadlineMs; k++) {
    const due = t0 + (k - 1) * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    late.push(Math.max(0, performance.now() - due))
    const status = await post(agent, options, `${k} ${Math.round(monotonicUs())}`)
    if (status === 201) {
      published++
      last = k
    } else failures[String(status)] = (failures[String(status)] ?? 0) + 1
  }
  agent.destroy()
  late.sort((a, b) => a - b)
  return {
    published,
    unsent: options.events - k + 1,
    last,
    failures,
    lateP99Ms: percentile(late, 99),
    lateMaxMs: late.at(-1) ?? 0,
    durationMs: performance.now() - t0,
  }
}

process.on('message', async (message: ToPublisher) => {
  const result = await publish(message.options)
  process.send?.({ type: 'result', result } satisfies FromPublisher, () => process.exit(0))
})
process.send?.({ type: 'ready' } satisfies FromPublisher)
