/**
 * What every fan-out floor serves (and the better-sse peer too): the bytes
 * edge-sse's topic route sends, made by nothing but string concatenation.
 * A topic of one process is a ring of the last HISTORY encoded frames, each
 * encoded once for every subscriber, ids `<8 chars>-<n>` as long as
 * edge-sse's `<epoch>-<n>`. A subscriber whose position fell out of the ring
 * is moved on to the oldest frame held, as edge-sse moves it on past a gap;
 * the load generator sees the missing numbers.
 *
 * Only for the bench's publisher, which sends one line of text per event: no
 * checks, no multi-line data.
 */
import { HEADERS } from '../floors/stream.ts'

export { HEADERS }

/** Frames held, as many as the edge-sse servers are told to hold (SSE_TOPIC_HISTORY). */
export const HISTORY = 100

const encoder = new TextEncoder()

/** The first bytes of every stream: `retry:`, as edge-sse's demo sends, which also makes Bun send the head at once. */
export const RETRY = encoder.encode('retry: 3000\n\n')

/** The id of event `n`: as long as edge-sse's `<epoch>-<n>`. */
export function frameId(n: number): string {
  return `fanout00-${n}`
}

/** A waiting subscriber, woken once by the next publish. */
export interface Waiter {
  wake(): void
}

/** One topic: the ring of encoded frames and the subscribers waiting for the next. */
export class Frames {
  readonly #ring: Uint8Array[] = []
  #next = 1
  #waiting = new Set<Waiter>()

  /** Sequence number of the next frame. */
  get next(): number {
    return this.#next
  }

  /** Sequence number of the oldest frame held. */
  get first(): number {
    return Math.max(1, this.#next - HISTORY)
  }

  /** Frame `seq`, or `undefined` when it is not held. */
  at(seq: number): Uint8Array | undefined {
    return seq >= this.first && seq < this.#next ? this.#ring[seq % HISTORY] : undefined
  }

  /** Encodes `data` once, holds it, wakes every waiting subscriber; returns its id. */
  publish(data: string): string {
    const id = frameId(this.#next)
    this.#ring[this.#next % HISTORY] = encoder.encode(`id: ${id}\ndata: ${data}\n\n`)
    this.#next++
    const waiting = this.#waiting
    this.#waiting = new Set()
    for (const waiter of waiting) waiter.wake()
    return id
  }

  wait(waiter: Waiter): void {
    this.#waiting.add(waiter)
  }

  unwait(waiter: Waiter): void {
    this.#waiting.delete(waiter)
  }
}

/** The answer to a publish, as edge-sse's route gives it. */
export function published(id: string): Response {
  return new Response(JSON.stringify({ id }), { status: 201, headers: { 'Content-Type': 'application/json' } })
}
