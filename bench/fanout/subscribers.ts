/**
 * Fan-out load generator: one process holding many subscribers of one topic,
 * over raw node:net sockets (cheap, so the server is what gets measured).
 * Forked by fanout/run.ts, it talks over IPC:
 *
 * - `open`: opens its subscribers, ramped at `connectPerS`, and answers
 *   `opened` once each has its response head (or failed);
 * - it says `received` on its own once every subscriber has the last event
 *   (or died); `last` tells it which event is the last when the publisher
 *   could not send them all;
 * - `report`: answers with its figures and exits.
 *
 * Every event's data is `<n> <publish time in µs>` (publisher.ts): a
 * subscriber checks it gets 1, 2, … in order, once each, and records
 * receipt − publish time in a histogram. Its own CPU and event-loop delay
 * over the delivery window are reported, so a saturated generator is not
 * mistaken for a slow server.
 */
import net from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import process from 'node:process'
import { SseParser } from '../client.ts'
import { ChunkedDecoder, readHead } from '../http1.ts'
import { monotonicUs } from './clock.ts'
import { Histogram, type HistogramData } from './histogram.ts'

export interface SubscribersOptions {
  port: number
  path: string
  /** Subscribers in this process. */
  n: number
  /** Connections opened per second: the ramp is not measured, it only has to succeed. */
  connectPerS: number
  /** Events the publisher sends: a subscriber with the last one is done. */
  events: number
  /** Source addresses, round-robin. */
  sources: string[]
  /** A subscriber without its head this long after its connect fails. */
  openTimeoutMs: number
}

export interface SubscribersResult {
  opened: number
  /** Subscribers that got every event, 1..events, in order, and nothing else. */
  ok: number
  /** Events received in order (each number once, increasing), over every subscriber. */
  deliveries: number
  failures: Record<string, number>
  latency: HistogramData
  /** CPU of this process over the delivery window (from `opened` to `report`). */
  windowCpuMs: number
  windowMs: number
  lagP99Ms: number
  lagMaxMs: number
}

export type ToSubscribers =
  | { type: 'open'; options: SubscribersOptions }
  | { type: 'last'; n: number }
  | { type: 'report' }
export type FromSubscribers =
  | { type: 'ready' }
  | { type: 'opened'; opened: number; failed: number }
  | { type: 'received' }
  | { type: 'result'; result: SubscribersResult }

interface Subscriber {
  socket: net.Socket
  /** Past opening: its head came, or it failed first. */
  opened: boolean
  /** Its head said 200, text/event-stream. */
  streaming: boolean
  /** The number of the last event received. */
  last: number
  /** The first thing that went wrong, if any. */
  error: string
  /** Settled: has the last event, or died. */
  settled: boolean
}

const latency = new Histogram()
const subscribers: Subscriber[] = []
let deliveries = 0
// The number of the last event: the publisher's plan, until it says otherwise.
let lastEvent = Number.POSITIVE_INFINITY
let unsettled = 0
let unopened = 0
let onOpened: () => void = () => {}
let onSettled: () => void = () => {}

function settle(sub: Subscriber): void {
  if (sub.settled) return
  sub.settled = true
  if (--unsettled === 0) onSettled()
}

function subscribe(options: SubscribersOptions, source: string): void {
  const socket = net.connect({ host: '127.0.0.1', port: options.port, localAddress: source })
  const sub: Subscriber = { socket, opened: false, streaming: false, last: 0, error: '', settled: false }
  subscribers.push(sub)
  let head: Buffer | undefined = Buffer.alloc(0)
  let now = 0
  const opened = () => {
    if (sub.opened) return
    sub.opened = true
    if (--unopened === 0) onOpened()
  }
  const fail = (reason: string) => {
    sub.error ||= reason
    // One that fails before its head is past opening too: it will get nothing.
    opened()
    settle(sub)
  }
  const parser = new SseParser((type, data) => {
    if (type !== 'message') return fail(`${type} event`)
    const space = data.indexOf(' ')
    const k = Number(data.slice(0, space))
    // A number at most once and in order; one skipped is lost, not late.
    if (!(k > sub.last)) return fail('event out of order')
    if (k !== sub.last + 1) sub.error ||= 'missed events'
    sub.last = k
    deliveries++
    latency.record(now - Number(data.slice(space + 1)))
    if (k >= lastEvent) settle(sub)
  })
  const chunked = new ChunkedDecoder((bytes) => parser.push(bytes))
  let chunkedBody = false
  const openTimer = setTimeout(() => {
    if (!sub.opened) {
      fail('no head in time')
      socket.destroy()
    }
  }, options.openTimeoutMs)
  socket.setNoDelay(true)
  socket.on('connect', () => {
    socket.write(
      `GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nAccept: text/event-stream\r\n` +
        'Cache-Control: no-cache\r\n\r\n',
    )
  })
  socket.on('data', (buf: Buffer) => {
    now = monotonicUs()
    if (head === undefined) {
      if (!chunkedBody) return parser.push(buf)
      const state = chunked.push(buf)
      if (state !== 'more') fail(state === 'end' ? 'stream ended' : state.error)
      return
    }
    head = Buffer.concat([head, buf])
    const read = readHead(head)
    if (read === undefined) return head.length > 16384 ? fail('head too long') : undefined
    head = undefined
    clearTimeout(openTimer)
    if ('error' in read) return fail(read.error)
    chunkedBody = read.mode === 'chunked'
    sub.streaming = true
    opened()
    if (read.rest.length > 0) {
      if (!chunkedBody) parser.push(read.rest)
      else chunked.push(read.rest)
    }
  })
  socket.on('close', () => {
    clearTimeout(openTimer)
    if (!sub.settled) fail('closed early')
  })
  socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'socket error'))
}

/** Opens every subscriber on a 5 ms tick and resolves once each has its head or failed. */
function openAll(options: SubscribersOptions): Promise<void> {
  unopened = options.n
  unsettled = options.n
  if (options.n === 0) return Promise.resolve()
  const opened = new Promise<void>((resolve) => {
    onOpened = resolve
  })
  const t0 = performance.now()
  const tick = setInterval(() => {
    const due = Math.min(options.n, ((performance.now() - t0) / 1000) * options.connectPerS)
    while (subscribers.length < due) {
      subscribe(options, options.sources[subscribers.length % options.sources.length] ?? '127.0.0.1')
    }
    if (subscribers.length >= options.n) clearInterval(tick)
  }, 5)
  return opened
}

function send(message: FromSubscribers): void {
  process.send?.(message)
}

let lag: ReturnType<typeof monitorEventLoopDelay> | undefined
let measuring: { cpu: NodeJS.CpuUsage; at: number } | undefined

process.on('message', async (message: ToSubscribers) => {
  if (message.type === 'last') {
    lastEvent = message.n
    for (const sub of subscribers) if (sub.last >= lastEvent) settle(sub)
    return
  }
  if (message.type === 'open') {
    const { options } = message
    lastEvent = options.events
    await openAll(options)
    onSettled = () => send({ type: 'received' })
    lag = monitorEventLoopDelay({ resolution: 10 })
    lag.enable()
    measuring = { cpu: process.cpuUsage(), at: performance.now() }
    const streaming = subscribers.filter((s) => s.streaming).length
    send({ type: 'opened', opened: streaming, failed: options.n - streaming })
    if (unsettled === 0) send({ type: 'received' })
    return
  }
  lag?.disable()
  const used = process.cpuUsage(measuring?.cpu)
  const failures: Record<string, number> = {}
  let ok = 0
  for (const sub of subscribers) {
    const error = sub.error || (sub.settled ? '' : 'events missing at the end')
    if (error === '') ok++
    else failures[error] = (failures[error] ?? 0) + 1
  }
  const result: SubscribersResult = {
    opened: subscribers.filter((s) => s.streaming).length,
    ok,
    deliveries,
    failures,
    latency: latency.toData(),
    windowCpuMs: (used.user + used.system) / 1000,
    windowMs: measuring ? performance.now() - measuring.at : 0,
    lagP99Ms: (lag?.percentile(99) ?? 0) / 1e6,
    lagMaxMs: (lag?.max ?? 0) / 1e6,
  }
  // Exits without closing 10k sockets one by one: the kernel does it.
  process.send?.({ type: 'result', result } satisfies FromSubscribers, () => process.exit(0))
})

send({ type: 'ready' })
