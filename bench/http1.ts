/**
 * How the load generators read an event stream's HTTP/1.1 response from a raw
 * socket: the head (status, type, how the body is framed), then the chunked
 * body, bytes in as they arrive, split anywhere, each chunk's data out as it
 * comes.
 */

/** How the body ends: the last chunk, or the connection's end. */
export type BodyMode = 'chunked' | 'eof'

/**
 * The response head in `head` (the bytes so far): `undefined` while incomplete,
 * else the body's framing and the body bytes already there, or why it is not
 * an event stream.
 */
export function readHead(head: Buffer): { mode: BodyMode; rest: Buffer } | { error: string } | undefined {
  const end = head.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const lines = head.toString('latin1', 0, end).split('\r\n')
  const status = lines[0]?.split(' ')[1]
  if (status !== '200') return { error: `status ${status}` }
  const headers = new Map(
    lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  if (!headers.get('content-type')?.startsWith('text/event-stream')) return { error: 'not text/event-stream' }
  const rest = head.subarray(end + 4)
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) return { mode: 'chunked', rest }
  if (headers.has('content-length')) return { error: 'content-length on a stream' }
  return { mode: 'eof', rest }
}

/** What a push found: more to come, the end of the body, or why the body is malformed. */
export type ChunkedState = 'more' | 'end' | { error: string }

export class ChunkedDecoder {
  readonly #onData: (bytes: Buffer) => void
  // Bytes left in the current chunk, or -1 while reading a size line.
  #left = -1
  #line = ''
  #afterChunk = false
  #trailers = false

  constructor(onData: (bytes: Buffer) => void) {
    this.#onData = onData
  }

  push(buf: Buffer): ChunkedState {
    let i = 0
    while (i < buf.length) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, buf.length - i)
        this.#onData(buf.subarray(i, i + take))
        this.#left -= take
        i += take
        if (this.#left === 0) {
          this.#left = -1
          this.#afterChunk = true
        }
        continue
      }
      // Size lines, the CRLF after each chunk and trailers are short: collect them as text.
      const lf = buf.indexOf(10, i)
      const end = lf < 0 ? buf.length : lf + 1
      this.#line += buf.toString('latin1', i, end)
      i = end
      if (lf < 0) break
      const text = this.#line.trimEnd()
      this.#line = ''
      if (this.#afterChunk) {
        this.#afterChunk = false
        if (text !== '') return { error: 'bad chunk end' }
      } else if (this.#trailers) {
        if (text === '') return 'end'
      } else {
        const size = Number.parseInt(text, 16)
        if (!Number.isFinite(size)) return { error: 'bad chunk size' }
        if (size === 0) this.#trailers = true
        else this.#left = size
      }
    }
    return 'more'
  }
}
