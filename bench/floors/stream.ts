/**
 * What every floor serves: the response edge-sse's /events sends (the same
 * headers, `retry: 3000`, then `id: k` / `data: Message k` one per interval,
 * then the end), made by a plain pull `ReadableStream` with nothing of
 * edge-sse or Hono in it. Same bytes and the same chunks (so the same writes)
 * as edge-sse, so a floor row and an edge-sse row differ only in the code
 * that makes the stream: what is left in the floor is the runtime's own cost.
 */

/** The head edge-sse sends with every stream. */
export const HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'Access-Control-Allow-Origin': '*',
  'X-Accel-Buffering': 'no',
}

/**
 * The chunks of one stream, encoded once and shared by every stream (edge-sse
 * shares its frame bytes too): `retry:` first, which also makes Bun send the
 * head at once, then frames 1..`frames`.
 */
export function encodeChunks(frames: number): Uint8Array[] {
  const encoder = new TextEncoder()
  const texts = ['retry: 3000\n\n']
  for (let k = 1; k <= frames; k++) texts.push(`id: ${k}\ndata: Message ${k}\n\n`)
  return texts.map((text) => encoder.encode(text))
}

/**
 * One stream's source: the first chunk at start, then one timer per pull; with
 * highWaterMark 0 the stream pulls again only once the last chunk was read. A
 * class with one shared timer callback and no promise per pull, so the
 * floor's own JavaScript per stream is one small object: the floor should be
 * as low as the runtime goes.
 */
class Source {
  readonly #chunks: Uint8Array[]
  readonly #intervalMs: number
  #sent = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined

  constructor(chunks: Uint8Array[], intervalMs: number) {
    this.#chunks = chunks
    this.#intervalMs = intervalMs
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller
    controller.enqueue(this.#chunks[this.#sent++] as Uint8Array)
  }

  pull(): void {
    // workerd keeps more than one read pending, and a pull that returns
    // without enqueuing is then called again at once: one timer at a time.
    if (this.#timer === undefined) this.#timer = setTimeout(send, this.#intervalMs, this)
  }

  send(): void {
    this.#timer = undefined
    const controller = this.#controller as ReadableStreamDefaultController<Uint8Array>
    controller.enqueue(this.#chunks[this.#sent++] as Uint8Array)
    if (this.#sent === this.#chunks.length) controller.close()
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
  }
}

function send(source: Source): void {
  source.send()
}

/** A new stream of `chunks`, the first at once and one more every `intervalMs`. */
export function floorStream(chunks: Uint8Array[], intervalMs: number): ReadableStream<Uint8Array> {
  return new ReadableStream(new Source(chunks, intervalMs), { highWaterMark: 0 })
}
