/** HTTP clients for the cross-runtime tests: raw requests and timed stream reads. */
import { connect } from 'node:net'

export interface RawResponse {
  status: number
  /** Header lines as sent, names lower-cased. */
  headers: Record<string, string>
  /** Everything after the head, as bytes arrived (chunked framing included). */
  body: string
}

/**
 * Sends one request byte for byte over a socket: `target` exactly as written
 * (fetch would normalise `..` and escapes away, which attackers rely on a
 * server not doing) and header values fetch would refuse to send.
 */
export function rawRequest(
  base: string,
  target: string,
  options: { method?: string; headers?: [string, string][] } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(base)
  const head = [`${options.method ?? 'GET'} ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close']
  for (const [name, value] of options.headers ?? []) head.push(`${name}: ${value}`)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head.join('\r\n')}\r\n\r\n`, 'latin1'))
    let text = ''
    // Some servers keep the socket open despite Connection: close, so the
    // response ends when its framing says so, or when the socket closes.
    const finish = () => {
      const split = text.indexOf('\r\n\r\n')
      if (split < 0) return false
      const lines = text.slice(0, split).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      const body = text.slice(split + 4)
      const length = headers['content-length']
      const complete =
        socket.closed ||
        options.method === 'HEAD' ||
        (length !== undefined && body.length >= Number(length)) ||
        (headers['transfer-encoding'] === 'chunked' && /(?:^|\r\n)0\r\n\r\n$/.test(body))
      if (!complete) return false
      socket.destroy()
      const status = Number(lines[0]?.split(' ')[1])
      if (status) resolve({ status, headers, body })
      else reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`))
      return true
    }
    socket.on('data', (part) => {
      text += part.toString('latin1')
      finish()
    })
    socket.on('error', reject)
    socket.on('close', () => finish() || reject(new Error(`closed without a response: ${JSON.stringify(text)}`)))
  })
}

export interface Chunk {
  text: string
  /** ms since the request was sent. */
  at: number
}

/** Reads a whole response body, noting when each chunk arrived. */
export async function readTimed(res: Response, sentAt: number): Promise<Chunk[]> {
  const chunks: Chunk[] = []
  const decoder = new TextDecoder()
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks
    chunks.push({ text: decoder.decode(value, { stream: true }), at: performance.now() - sentAt })
  }
}

/**
 * The SSE blocks of a timed read (each up to its blank line), each with the
 * time its last byte arrived: a client that was busy reads several in one chunk.
 */
export function timedBlocks(chunks: Chunk[]): Chunk[] {
  const blocks: Chunk[] = []
  let pending = ''
  for (const { text, at } of chunks) {
    pending += text
    for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
      blocks.push({ text: pending.slice(0, end + 2), at })
      pending = pending.slice(end + 2)
    }
  }
  if (pending) blocks.push({ text: pending, at: chunks.at(-1)?.at ?? 0 })
  return blocks
}

/**
 * How early a frame may arrive against its exact due time: servers round
 * Date.now() and timer delays to whole milliseconds, once each.
 */
export const CLOCK_ROUNDING_MS = 2

/** Reads until `count` SSE events (blank-line terminated blocks with an id) have arrived. */
export async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  while ((text.match(/^id: /gm) ?? []).length < count || !text.endsWith('\n\n')) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`stream ended after ${JSON.stringify(text)}`)
    text += decoder.decode(value, { stream: true })
  }
  return text
}
