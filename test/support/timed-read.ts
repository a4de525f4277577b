/**
 * Reading a stream with the time each part arrived, and what the tests may
 * conclude from those times. No Node import: the workerd tests use it too.
 */

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

/** When the last byte of each match of `pattern` (a global RegExp) in the whole read arrived. */
export function arrivals(chunks: Chunk[], pattern: RegExp): number[] {
  const text = chunks.map((chunk) => chunk.text).join('')
  return [...text.matchAll(pattern)].map((match) => {
    let last = match.index + match[0].length - 1
    for (const chunk of chunks) {
      if (last < chunk.text.length) return chunk.at
      last -= chunk.text.length
    }
    throw new Error('unreachable: every match lies within the chunks')
  })
}

/**
 * How early a frame may arrive against its exact due time: servers round
 * Date.now() and timer delays to whole milliseconds, once each.
 */
export const CLOCK_ROUNDING_MS = 2
