/**
 * Load generator: N concurrent SSE clients over raw node:net sockets, ramped
 * evenly over `rampMs`. Each client parses HTTP/1.1 (chunked or close-delimited)
 * and the event stream per the WHATWG spec, and records time to headers, every
 * event's arrival and whether the stream ended cleanly.
 *
 * Raw sockets keep the generator cheap (no http.Agent, no IncomingMessage per
 * client), so the server, not the client, is what gets measured. Run forked by
 * run.ts (IPC), or alone: `node bench/client.ts --port 8787 --n 1000`.
 *
 * With `h2` the streams are HTTP/2 over TLS instead (node:http2, there is no
 * cheaper HTTP/2 client), multiplexed `streamsPerSession` to a session as a
 * browser does on one origin, with the same checks per stream. Alone:
 * `node bench/client.ts --port 8787 --n 1000 --ca cert.pem`.
 */
import { readFileSync } from 'node:fs'
import http2 from 'node:http2'
import net from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { type BodyMode, ChunkedDecoder, readHead } from './http1.ts'

export interface LoadOptions {
  port: number
  n: number
  rampMs: number
  frames: number
  intervalMs: number
  /** Source addresses, used round-robin: one address runs out of ephemeral ports near 15k. */
  sources: string[]
  /** HTTP/2 over TLS: the server's certificate (trusted as the CA) and how many streams share a session. */
  h2?: { ca: string; streamsPerSession: number }
}

export interface LoadResult {
  ok: number
  failed: number
  failures: Record<string, number>
  events: number
  expected: number
  /**
   * Per ok-or-not client that got headers: ms from connect() to the end of the
   * response head; on HTTP/2, from the stream's request (a session's first
   * streams wait for its TLS handshake, as a browser's do).
   */
  ttfbMs: number[]
  /** Per gap between two consecutive events of one client: |gap − interval| in ms. */
  jitterMs: number[]
  /** The generator's own cost, to show it is not the bottleneck. */
  clientCpuMs: number
  clientLagP99Ms: number
  /** Most streams open at once (headers in, end not yet): how concurrent the N really were. */
  peakOpen: number
}

export const SOURCES = [
  '127.0.0.2',
  '127.0.0.3',
  '127.0.0.4',
  '127.0.0.5',
  '127.0.0.6',
  '127.0.0.7',
  '127.0.0.8',
  '127.0.0.9',
]

/** The q-th percentile of an ascending array (nearest rank); 0 when empty. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)] ?? 0
}

/** An event-stream parser (HTML §9.2.6): UTF-8 decode, BOM, CR/LF/CRLF lines, fields, dispatch on blank line. */
export class SseParser {
  onEvent: (type: string, data: string, id: string) => void
  private decoder = new TextDecoder()
  private pending = ''
  private skipLf = false
  private started = false
  private data = ''
  private type = ''
  private idBuffer = ''
  lastEventId = ''
  retry = -1

  constructor(onEvent: (type: string, data: string, id: string) => void) {
    this.onEvent = onEvent
  }

  push(bytes: Uint8Array): void {
    let text = this.decoder.decode(bytes, { stream: true })
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    const s = this.pending + text
    let start = 0
    // A CR ended the previous chunk: an LF right after it belongs to the same line break.
    if (this.skipLf && s.charCodeAt(0) === 10) start = 1
    this.skipLf = false
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.line(s.slice(start, i))
      if (c === 13) {
        if (i + 1 === s.length) this.skipLf = true
        else if (s.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.pending = s.slice(start)
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch()
      return
    }
    if (line.charCodeAt(0) === 58) return // ':' comment
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') this.data += `${value}\n`
    else if (field === 'event') this.type = value
    else if (field === 'id') {
      if (!value.includes('\0')) this.idBuffer = value
    } else if (field === 'retry' && /^[0-9]+$/.test(value)) this.retry = Number(value)
  }

  private dispatch(): void {
    this.lastEventId = this.idBuffer
    const { data, type } = this
    this.data = ''
    this.type = ''
    if (data === '') return
    this.onEvent(type || 'message', data.slice(0, -1), this.lastEventId)
  }
}

/** One client's state: HTTP head, then chunked (or close-delimited) body fed to the SSE parser. */
interface Client {
  started: number
  headersAt: number
  arrivals: number[]
  error: string
  done: boolean
}

let open = 0
let peakOpen = 0

/** The stream's parser, with the check both protocols make of every event; `fail` is told of a wrong one. */
function eventParser(client: Client, now: () => number, fail: (reason: string) => void): SseParser {
  return new SseParser((_type, data, id) => {
    const k = client.arrivals.length + 1
    // Frame k is `data: Message k`; the id, where a server sends one, must be k too.
    if (data !== `Message ${k}` || (id !== '' && id !== String(k))) fail(`bad event ${k}`)
    client.arrivals.push(now())
  })
}

/** Opens one stream and resolves when it ends, cleanly or not; never rejects. */
function runClient(options: LoadOptions, source: string, deadline: number): Promise<Client> {
  const client: Client = { started: performance.now(), headersAt: 0, arrivals: [], error: '', done: false }
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: options.port, localAddress: source })
    let head: Buffer | undefined = Buffer.alloc(0)
    let mode: BodyMode = 'eof'
    let now = 0
    let counted = false
    const parser = eventParser(client, () => now, fail)
    const timer = setTimeout(() => fail('timeout'), deadline - performance.now())
    const finish = () => {
      if (client.headersAt > 0 && !counted) {
        counted = true
        open--
      }
      clearTimeout(timer)
      socket.destroy()
      resolve(client)
    }
    function fail(reason: string) {
      if (!client.error && !client.done) client.error = reason
      finish()
    }
    // The body ended: clean only with every frame. Wait for the server's FIN (we
    // asked for Connection: close) so TIME_WAIT stays on the server side.
    const complete = () => {
      if (client.arrivals.length !== options.frames) return fail(`ended after ${client.arrivals.length} events`)
      client.done = true
      socket.once('close', finish)
      setTimeout(finish, 1000).unref()
    }
    const chunked = new ChunkedDecoder((bytes) => parser.push(bytes))
    const body = (buf: Buffer) => {
      if (mode === 'eof') return parser.push(buf)
      const state = chunked.push(buf)
      if (state === 'end') complete()
      else if (state !== 'more') fail(state.error)
    }
    socket.setNoDelay(true)
    socket.on('connect', () => {
      socket.write(
        `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nAccept: text/event-stream\r\n` +
          'Cache-Control: no-cache\r\nConnection: close\r\n\r\n',
      )
    })
    socket.on('data', (buf: Buffer) => {
      now = performance.now()
      if (client.done) return
      if (head === undefined) return body(buf)
      head = Buffer.concat([head, buf])
      const read = readHead(head)
      if (read === undefined) return head.length > 16384 ? fail('head too long') : undefined
      head = undefined
      client.headersAt = now
      peakOpen = Math.max(peakOpen, ++open)
      if ('error' in read) return fail(read.error)
      mode = read.mode
      const { rest } = read
      if (rest.length > 0) body(rest)
    })
    socket.on('end', () => {
      if (client.done) return
      if (mode === 'eof' && head === undefined) return complete()
      fail('closed early')
    })
    socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'socket error'))
  })
}

/** Opens one stream on an HTTP/2 session and resolves when it ends, cleanly or not; never rejects. */
function runH2Stream(session: http2.ClientHttp2Session, options: LoadOptions, deadline: number): Promise<Client> {
  const client: Client = { started: performance.now(), headersAt: 0, arrivals: [], error: '', done: false }
  return new Promise((resolve) => {
    let now = 0
    let counted = false
    const stream = session.request({ ':path': '/events', accept: 'text/event-stream', 'cache-control': 'no-cache' })
    const parser = eventParser(client, () => now, fail)
    const timer = setTimeout(() => fail('timeout'), deadline - performance.now())
    function finish() {
      if (client.headersAt > 0 && !counted) {
        counted = true
        open--
      }
      clearTimeout(timer)
      // RST_STREAM for a stream that has not ended; a no-op for one that has.
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL)
      resolve(client)
    }
    function fail(reason: string) {
      if (!client.error && !client.done) client.error = reason
      finish()
    }
    stream.on('response', (headers) => {
      now = performance.now()
      client.headersAt = now
      peakOpen = Math.max(peakOpen, ++open)
      const status = headers[':status']
      if (status !== 200) return fail(`status ${status}`)
      if (!headers['content-type']?.startsWith('text/event-stream')) return fail('not text/event-stream')
      if (headers['content-length'] !== undefined) fail('content-length on a stream')
    })
    stream.on('data', (buf: Buffer) => {
      now = performance.now()
      if (!client.done) parser.push(buf)
    })
    // END_STREAM from the server: clean only with every frame.
    stream.on('end', () => {
      if (client.arrivals.length !== options.frames) return fail(`ended after ${client.arrivals.length} events`)
      client.done = true
      finish()
    })
    stream.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'stream error'))
    stream.on('close', () => fail('closed early'))
  })
}

/**
 * Stream `i`'s session: streams 0..k-1 share the first, k..2k-1 the next, and
 * so on, each session from the next source address. A session closes (GOAWAY)
 * once its last stream has ended.
 */
function h2Sessions(options: LoadOptions & { h2: NonNullable<LoadOptions['h2']> }) {
  const { ca, streamsPerSession } = options.h2
  const sessions: { session: http2.ClientHttp2Session; left: number }[] = []
  return (i: number, deadline: number): Promise<Client> => {
    const s = Math.floor(i / streamsPerSession)
    let entry = sessions[s]
    if (!entry) {
      const localAddress = options.sources[s % options.sources.length] ?? '127.0.0.1'
      // localAddress reaches tls.connect, though http2's types leave it out.
      const connectOptions: http2.SecureClientSessionOptions & { localAddress: string } = { ca, localAddress }
      const session = http2.connect(`https://127.0.0.1:${options.port}`, connectOptions)
      // A session's failure reaches each of its streams as their own error.
      session.on('error', () => {})
      entry = { session, left: Math.min(streamsPerSession, options.n - s * streamsPerSession) }
      sessions[s] = entry
    }
    const mine = entry
    return runH2Stream(mine.session, options, deadline).then((client) => {
      if (--mine.left === 0) mine.session.close()
      return client
    })
  }
}

/** Runs the whole ramp and waits for every client; bounded by a deadline per client. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const cpu = process.cpuUsage()
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  const t0 = performance.now()
  // A client gets the whole stream plus 10 s of slack before it counts as failed.
  const budget = options.frames * options.intervalMs + 10_000
  const clients: Promise<Client>[] = []
  const { h2 } = options
  const start = h2
    ? h2Sessions({ ...options, h2 })
    : (i: number, deadline: number) =>
        runClient(options, options.sources[i % options.sources.length] ?? '127.0.0.1', deadline)
  // Start clients on a 5 ms tick rather than one timer each: the ramp stays even
  // and the generator does not hold N timers.
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = options.rampMs > 0 ? ((performance.now() - t0) / options.rampMs) * options.n : options.n
      while (clients.length < Math.min(options.n, due)) {
        clients.push(start(clients.length, performance.now() + budget))
      }
      if (clients.length >= options.n) {
        clearInterval(tick)
        resolve()
      }
    }, 5)
  })
  const done = await Promise.all(clients)
  lag.disable()
  const result: LoadResult = {
    ok: 0,
    failed: 0,
    failures: {},
    events: 0,
    expected: options.n * options.frames,
    ttfbMs: [],
    jitterMs: [],
    clientCpuMs: 0,
    clientLagP99Ms: lag.percentile(99) / 1e6,
    peakOpen,
  }
  for (const c of done) {
    if (c.headersAt > 0) result.ttfbMs.push(c.headersAt - c.started)
    result.events += c.arrivals.length
    for (let k = 1; k < c.arrivals.length; k++) {
      result.jitterMs.push(Math.abs((c.arrivals[k] ?? 0) - (c.arrivals[k - 1] ?? 0) - options.intervalMs))
    }
    if (c.done && !c.error) result.ok++
    else {
      result.failed++
      const reason = c.error || 'unknown'
      result.failures[reason] = (result.failures[reason] ?? 0) + 1
    }
  }
  const used = process.cpuUsage(cpu)
  result.clientCpuMs = (used.user + used.system) / 1000
  return result
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}

/** The HTTP/2 options of a standalone run: `--ca <pem file>` [`--streams-per-session 100`]. */
function h2Flag(): LoadOptions['h2'] {
  const i = process.argv.indexOf('--ca')
  if (i < 0) return undefined
  return { ca: readFileSync(process.argv[i + 1] ?? '', 'utf8'), streamsPerSession: flag('streams-per-session', 100) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.send) {
    // Forked by run.ts: say ready, run on 'go' so forking is not in the measured window.
    process.on('message', async (options: LoadOptions) => {
      const result = await runLoad(options)
      process.send?.(result, () => process.exit(0))
    })
    process.send('ready')
  } else {
    const options = {
      port: flag('port', 8787),
      n: flag('n', 100),
      rampMs: flag('ramp-ms', 1000),
      frames: flag('frames', 5),
      intervalMs: flag('interval-ms', 1000),
      sources: SOURCES,
      h2: h2Flag(),
    }
    const r = await runLoad(options)
    const { ttfbMs, jitterMs, ...rest } = r
    const p99 = (xs: number[]) =>
      percentile(
        xs.sort((a, b) => a - b),
        99,
      )
    console.log(JSON.stringify({ ...rest, ttfbP99: p99(ttfbMs), jitterP99: p99(jitterMs) }))
  }
}
