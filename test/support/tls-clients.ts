/**
 * Clients for servers on HTTPS with a test certificate (certs.ts): node:http2
 * as a real HTTP/2 client (Node's fetch speaks only HTTP/1.1), and node:https
 * asking for HTTP/1.1 by ALPN, both trusting the certificate as their CA.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect, type IncomingHttpHeaders } from 'node:http2'
import { Agent, type AgentOptions, request as httpsRequest, type RequestOptions } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { Chunk } from './timed-read.ts'

/** Opens an HTTP/2 session to `url`, resolving once TLS and ALPN are done. */
export function h2Connect(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { ca })
    session.once('connect', () => {
      session.off('error', reject)
      // An error after connect (e.g. the server's GOAWAY with a reset) must not crash the test run.
      session.on('error', () => {})
      resolve(session)
    })
    session.once('error', reject)
  })
}

export interface H2Response {
  status: number
  /** Response headers as received, pseudo-headers included. */
  headers: IncomingHttpHeaders
  /** The body, still to be read. */
  stream: ClientHttp2Stream
}

/** Sends a GET (or `method`) for `path` on `session`; resolves with the response head. */
export function h2Request(
  session: ClientHttp2Session,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': options.method ?? 'GET', ':path': path, ...options.headers })
    stream.once('response', (headers) => {
      stream.off('error', reject)
      resolve({ status: Number(headers[':status']), headers, stream })
    })
    stream.once('error', reject)
  })
}

/** Reads a whole HTTP/2 body as text. */
export async function h2Text(stream: ClientHttp2Stream): Promise<string> {
  stream.setEncoding('utf8')
  let text = ''
  for await (const chunk of stream) text += chunk
  return text
}

/** Reads an HTTP/2 body, noting when each chunk arrived (ms since `sentAt`). */
export async function h2Timed(stream: ClientHttp2Stream, sentAt: number): Promise<Chunk[]> {
  stream.setEncoding('utf8')
  const chunks: Chunk[] = []
  for await (const chunk of stream) chunks.push({ text: chunk, at: performance.now() - sentAt })
  return chunks
}

export interface Https1Response {
  status: number
  /** `http/1.1` when the server agreed to it by ALPN. */
  alpnProtocol: string | false | null
  httpVersion: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * GET `path` over HTTPS asking for HTTP/1.1 only, the way an HTTP/1.1-only
 * client does; on a connection of its own unless `agent` (keep-alive) is given.
 */
export function https1Get(
  url: string,
  path: string,
  ca: string,
  options: { headers?: Record<string, string>; agent?: Agent } = {},
) {
  return new Promise<Https1Response>((resolve, reject) => {
    // ALPNProtocols reaches tls.connect, though https's types leave it out.
    const request: RequestOptions & { ALPNProtocols: string[] } = {
      ca,
      headers: options.headers,
      ALPNProtocols: ['http/1.1'],
      agent: options.agent ?? false,
    }
    const req = httpsRequest(new URL(path, url), request, (res) => {
      const { alpnProtocol } = res.socket as TLSSocket
      res.setEncoding('utf8')
      let body = ''
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, alpnProtocol, httpVersion: res.httpVersion, headers: res.headers, body })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** A keep-alive agent for {@link https1Get} that asks for HTTP/1.1 and trusts `ca`. */
export function https1Agent(ca: string): Agent {
  return new Agent({ keepAlive: true, ca, ALPNProtocols: ['http/1.1'] } as AgentOptions)
}
