/**
 * What an `EventSource` makes of the bytes it reads, as the WHATWG spec says
 * (§9.2.6): events with their type, data and the last event id, which an
 * `id:` line sets even in a frame that dispatches nothing, and which is what
 * the browser sends back as `Last-Event-ID`. eventsource-parser reports ids
 * per event only, so the tests that resume need this model.
 */

/** One dispatched event, as a `MessageEvent` shows it. */
export interface ReceivedEvent {
  type: string
  data: string
  lastEventId: string
}

export class EventSourceModel {
  #idBuffer = ''
  #type = ''
  #data = ''
  #rest = ''

  /** The last event id, as the browser would send it when it reconnects (`''`: none). */
  get lastEventId(): string {
    return this.#lastEventId
  }

  /** Kept across reconnects: the spec's buffer and the event source's last id start as the same string. */
  set lastEventId(id: string) {
    this.#lastEventId = this.#idBuffer = id
  }

  #lastEventId = ''

  /** Feeds decoded text; returns the events it completed. */
  feed(text: string): ReceivedEvent[] {
    const events: ReceivedEvent[] = []
    const lines = (this.#rest + text).split(/\r\n|\r|\n/)
    this.#rest = lines.pop() as string
    for (const line of lines) {
      if (line === '') {
        this.#lastEventId = this.#idBuffer
        if (this.#data !== '') {
          events.push({ type: this.#type || 'message', data: this.#data.slice(0, -1), lastEventId: this.#lastEventId })
        }
        this.#type = this.#data = ''
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      let value = colon < 0 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'data') this.#data += `${value}\n`
      else if (field === 'event') this.#type = value
      else if (field === 'id' && !value.includes('\0')) this.#idBuffer = value
    }
    return events
  }
}

/** A stream read as an `EventSource` reads it, event by event. */
export class EventStreamReader {
  readonly model = new EventSourceModel()
  /** Every chunk as it arrived, for tests that compare bytes or their identity. */
  readonly chunks: Uint8Array[] = []
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #decoder = new TextDecoder()
  readonly #queue: ReceivedEvent[] = []

  /** `lastEventId`: what the browser had before it (re)connected, kept until an `id:` line changes it. */
  constructor(stream: ReadableStream<Uint8Array>, lastEventId = '') {
    this.#reader = stream.getReader()
    this.model.lastEventId = lastEventId
  }

  /** The last event id the browser would send back now. */
  get lastEventId(): string {
    return this.model.lastEventId
  }

  /** The next `count` events, reading as long as needed; rejects if the stream ends first. */
  async take(count: number): Promise<ReceivedEvent[]> {
    while (this.#queue.length < count) {
      if (!(await this.readChunk())) throw new Error(`the stream ended with ${this.#queue.length} of ${count} events`)
    }
    return this.#queue.splice(0, count)
  }

  /** Reads one chunk into the queue; `false` once the stream has ended. */
  async readChunk(): Promise<boolean> {
    const { done, value } = await this.#reader.read()
    if (done) return false
    this.chunks.push(value)
    this.#queue.push(...this.model.feed(this.#decoder.decode(value, { stream: true })))
    return true
  }

  /** The client leaves. */
  cancel(): Promise<void> {
    return this.#reader.cancel()
  }
}
