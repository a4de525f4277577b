/**
 * What a topic's Redis stream holds, and how a reader knows it missed
 * nothing. Each entry is one event: its stream id is the event's id, its
 * fields are `e` (the type, when not `message`), `d` (the data) and `p`, the
 * id of the position before it (`0-0` for a stream's first entry). The `p`
 * links make gaps exact: a reader at X has every event up to entry E if E's
 * `p` is X, whatever was trimmed, expired or lost in Redis meanwhile.
 */
import type { ServerSentEvent } from './encoder.ts'

/** The position before a stream's first entry. */
export const STREAM_START = '0-0'

/** An entry as Redis answers it: its id and its fields, flat (`[name, value, …]`). */
export type RawEntry = [id: string, fields: string[]]

/** One entry of a topic's stream, read. */
export interface StreamEntry {
  /** The event, `id` included. */
  event: ServerSentEvent
  /** The id of the position before it. */
  prev: string
  /** When it was added (the milliseconds part of its id, Redis's clock). */
  at: number
}

// Redis writes both parts in plain decimal; at most 20 digits (64 bits).
const ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/

/** Whether `id` is a stream id as Redis writes them (`<ms>-<seq>`). */
export function isStreamId(id: string): boolean {
  return ID.test(id)
}

// Two decimal numbers without leading zeros: the shorter is smaller.
function compareDecimal(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

/** Negative, 0 or positive as stream id `a` is before, equal to or after `b` (both valid). */
export function compareIds(a: string, b: string): number {
  const dashA = a.indexOf('-')
  const dashB = b.indexOf('-')
  return compareDecimal(a.slice(0, dashA), b.slice(0, dashB)) || compareDecimal(a.slice(dashA + 1), b.slice(dashB + 1))
}

/** Reads an entry of a topic's stream; `p` missing (an entry written by something else) reads as unknown. */
export function readEntry([id, fields]: RawEntry): StreamEntry {
  let type: string | undefined
  let data = ''
  let prev = ''
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1] as string
    if (fields[i] === 'd') data = value
    else if (fields[i] === 'e') type = value
    else if (fields[i] === 'p') prev = value
  }
  const event: ServerSentEvent = type === undefined ? { id, data } : { event: type, id, data }
  return { event, prev, at: Number(id.slice(0, id.indexOf('-'))) }
}

/**
 * The longest run at the end of `entries` (oldest first) in which each entry
 * follows the one before it: what a reader can hold without a hidden hole
 * (an entry deleted from the middle of the stream breaks the chain there).
 */
export function unbrokenTail(entries: StreamEntry[]): StreamEntry[] {
  let start = entries.length - 1
  while (start > 0 && (entries[start] as StreamEntry).prev === (entries[start - 1] as StreamEntry).event.id) start--
  return start <= 0 ? entries : entries.slice(start)
}

/** Whether `entries` (oldest first) are exactly every entry after `from` up to and including `to`. */
export function isChain(entries: StreamEntry[], from: string, to: string): boolean {
  let prev = from
  for (const entry of entries) {
    if (entry.prev !== prev) return false
    prev = entry.event.id as string
  }
  return prev === to
}
