/** HTTP clients for the cross-runtime tests: raw requests and reading a stream up to its n-th event. */
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
