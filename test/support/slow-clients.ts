/**
 * Clients that never finish a request (slowloris): they open a connection and
 * then send nothing, or stop half-way through a request head, over plain
 * HTTP/1.1, TLS and HTTP/2; and clients that stay idle on their connection
 * after a stream. Each reads whatever the server sends, so that the server
 * closing the connection is seen at once.
 */
import { connect as connectHttp2 } from 'node:http2'
import { connect as connectTcp, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'

export const plainKinds = ['silent', 'half-headers', 'trickle'] as const
export const tlsKinds = [
  'tls-silent',
  'tls-half-handshake',
  'tls-half-headers',
  'h2-silent',
  'h2-idle',
  'h2-half-headers',
] as const
/** Idle after a whole stream (the server should have a short /events stream for these). */
export const afterStreamKinds = ['kept-alive', 'tls-kept-alive', 'h2-after-stream'] as const
export type SlowKind = (typeof plainKinds)[number] | (typeof tlsKinds)[number] | (typeof afterStreamKinds)[number]

/** What each kind does, for test names. */
export const describeKind: Record<SlowKind, string> = {
  silent: 'connects and sends nothing',
  'half-headers': 'stops half-way through its request head',
  trickle: 'sends one more header line every 500 ms, never the end of its head',
  'tls-silent': 'connects to the TLS port and never starts the handshake',
  'tls-half-handshake': 'stops half-way through its TLS ClientHello',
  'tls-half-headers': 'finishes TLS (HTTP/1.1) and stops half-way through its request head',
  'h2-silent': 'finishes TLS with h2 and never sends the HTTP/2 preface',
  'h2-idle': 'opens an HTTP/2 session (preface, SETTINGS) and never sends a request',
  'h2-half-headers': 'sends an HTTP/2 HEADERS frame without END_HEADERS and nothing more',
  'kept-alive': 'keeps its plain HTTP/1.1 connection, idle, after a whole stream',
  'tls-kept-alive': 'keeps its HTTP/1.1 connection over TLS, idle, after a whole stream',
  'h2-after-stream': 'keeps its HTTP/2 session, idle, after a whole stream',
}

export interface SlowClient {
  /** Resolves with the ms from connecting to the server closing the connection. */
  closed: Promise<number>
  /** Closes it from our side (cleanup). */
  destroy(): void
}

const HALF_HEAD = 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nX-Slow: '

/** The HTTP/2 client preface, an empty SETTINGS frame and a HEADERS frame for GET / that never ends. */
function halfHttp2Headers(): Buffer {
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const head = Buffer.alloc(9)
    head.writeUIntBE(payload.length, 0, 3)
    head[3] = type
    head[4] = flags
    head.writeUInt32BE(stream, 5)
    return Buffer.concat([head, payload])
  }
  // HPACK static table: :method GET, :scheme https, :path /. Flags END_STREAM
  // only: without END_HEADERS the server waits for a CONTINUATION frame.
  const block = Buffer.from([0x82, 0x87, 0x84])
  return Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    frame(0x4, 0, 0, Buffer.alloc(0)),
    frame(0x1, 0x1, 1, block),
  ])
}

/** A TLS 1.2+ record header announcing a 512-byte ClientHello, and only the first bytes of it. */
const HALF_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])

/** Opens one slow client of `kind` to the server at `url` (TLS kinds trust `ca`). */
export function openSlowClient(kind: SlowKind, url: string, ca?: string): SlowClient {
  const { hostname, port } = new URL(url)
  const startedAt = performance.now()
  let socket: Socket | undefined
  let destroy: () => void = () => socket?.destroy()
  const closed = new Promise<number>((resolve) => {
    const watch = (target: Socket) => {
      socket = target
      target.on('data', () => {}) // reading is what lets us see the server's FIN
      target.on('error', () => {})
      target.once('close', () => resolve(performance.now() - startedAt))
    }
    switch (kind) {
      case 'silent':
      case 'tls-silent':
        watch(connectTcp(Number(port), hostname))
        break
      case 'half-headers': {
        const target = connectTcp(Number(port), hostname, () => target.write(HALF_HEAD))
        watch(target)
        break
      }
      case 'trickle': {
        const target = connectTcp(Number(port), hostname, () => target.write(HALF_HEAD))
        let n = 0
        const more = setInterval(() => target.write(`x\r\nX-Slow-${n++}: `), 500)
        target.once('close', () => clearInterval(more))
        watch(target)
        break
      }
      case 'tls-half-handshake': {
        const target = connectTcp(Number(port), hostname, () => target.write(HALF_CLIENT_HELLO))
        watch(target)
        break
      }
      case 'tls-half-headers':
      case 'tls-kept-alive':
      case 'h2-silent':
      case 'h2-half-headers': {
        const alpn = kind.startsWith('tls-') ? 'http/1.1' : 'h2'
        const target = connectTls({ host: hostname, port: Number(port), ca, ALPNProtocols: [alpn] }, () => {
          if (kind === 'tls-half-headers') target.write(HALF_HEAD)
          if (kind === 'tls-kept-alive') target.write(`GET /events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`)
          if (kind === 'h2-half-headers') target.write(halfHttp2Headers())
        })
        watch(target)
        break
      }
      case 'kept-alive': {
        const target = connectTcp(Number(port), hostname, () =>
          target.write(`GET /events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`),
        )
        watch(target)
        break
      }
      case 'h2-after-stream':
      case 'h2-idle': {
        const session = connectHttp2(url, { ca })
        if (kind === 'h2-after-stream') session.request({ ':path': '/events' }).resume()
        session.on('error', () => {})
        session.once('close', () => resolve(performance.now() - startedAt))
        destroy = () => session.destroy()
        break
      }
    }
  })
  return { closed, destroy: () => destroy() }
}
