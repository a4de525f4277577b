/**
 * Server-Sent Events encoder: pure functions that turn an event or a comment
 * into text of the WHATWG `text/event-stream` format (HTML §9.2.5, read back as
 * in §9.2.6 "Event stream interpretation").
 *
 * Every value is written so that a spec-conforming parser reads back exactly
 * what was given: no input can add a field, end an event early or be dropped.
 */

/** One event as the client's `EventSource` will see it. */
export interface ServerSentEvent {
  /**
   * The event's data (`MessageEvent.data`). Split on CR, LF and CRLF into one
   * `data:` line each; the parser joins them back with LF, so the client sees
   * every line break as LF. `''` dispatches an event with empty data; without
   * `data` the frame only sets `event`, `id` or `retry` and dispatches nothing.
   */
  data?: string
  /**
   * The event type (`event:`), dispatched as a named event. `''` and omitting it
   * both mean `message`. Must not contain CR or LF.
   */
  event?: string
  /**
   * The event id (`id:`). The client keeps it as its last event ID for this and
   * later events until the next `id`, and sends it back as `Last-Event-ID` when
   * it reconnects; `''` clears it. Must not contain CR, LF or U+0000 (clients
   * ignore such an id).
   */
  id?: string
  /** The client's reconnection time in milliseconds (`retry:`): a non-negative safe integer. */
  retry?: number
}

// The spec's three line endings; CRLF first so it counts as one break. U+2028,
// U+2029 and NEL are not line breaks in SSE and pass through untouched.
const LINE_BREAK = /\r\n|\r|\n/

// Checked at run time too, for callers without TypeScript: a number or null
// would otherwise be written as text nobody meant, and a line break in a
// one-line field would start a field (or an event) of the sender's choosing.
function check(what: string, value: unknown, forbidden?: RegExp, named?: string): string {
  if (typeof value !== 'string') throw new TypeError(`SSE ${what} must be a string, got ${typeof value}`)
  if (forbidden?.test(value)) throw new TypeError(`SSE ${what} must not contain ${named}`)
  return value
}

// Always one space after the colon: the parser strips exactly one, so a value
// that starts with a space keeps it. Lines end in LF only: a CR at the end of a
// network chunk leaves a streaming parser unsure whether an LF follows.
function line(field: string, value: string): string {
  return `${field}: ${value}\n`
}

/**
 * `retry` if it is a valid reconnection time: a non-negative safe integer,
 * since String() of one is plain ASCII digits (no sign, exponent or
 * fraction), the only form the spec accepts; -0 prints as 0. Throws a
 * `TypeError` otherwise.
 */
export function checkRetry(retry: number): number {
  if (!Number.isSafeInteger(retry) || retry < 0) {
    throw new TypeError(`SSE field "retry" must be a non-negative integer, got ${String(retry)}`)
  }
  return retry
}

/** Encodes one event, ending with the blank line that dispatches it. */
export function encodeEvent(event: ServerSentEvent): string {
  // A string or null from an untyped source would otherwise encode as an empty event.
  if (typeof event !== 'object' || event === null) {
    throw new TypeError(`SSE event must be an object, got ${event === null ? 'null' : typeof event}`)
  }
  let text = ''
  if (event.event !== undefined) text += line('event', check('field "event"', event.event, /[\r\n]/, 'CR or LF'))
  if (event.id !== undefined) text += line('id', check('field "id"', event.id, /[\r\n\0]/, 'CR, LF or U+0000'))
  if (event.retry !== undefined) text += line('retry', String(checkRetry(event.retry)))
  if (event.data !== undefined) {
    for (const part of check('field "data"', event.data).split(LINE_BREAK)) text += line('data', part)
  }
  return `${text}\n`
}

/**
 * Encodes a comment, one `:` line per line of `text` (split like data, so the
 * text cannot end the comment and start a field). Clients ignore comments; a
 * bare `:` line, the default, is the usual keep-alive.
 */
export function encodeComment(text = ''): string {
  if (check('comment', text) === '') return ':\n'
  return text
    .split(LINE_BREAK)
    .map((part) => `: ${part}\n`)
    .join('')
}
