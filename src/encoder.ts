/**
 * Server-Sent Events encoder: pure functions that turn an event or a comment
 * into text of the WHATWG `text/event-stream` format (HTML §9.2.6).
 *
 * Every value is written so that a spec-conforming parser reads back exactly
 * what was given: no input can add a field, end an event early or be dropped.
 */

/** One event as the client's `EventSource` will see it. */
export interface ServerSentEvent {
  /**
   * The event's data (`MessageEvent.data`). Split on CR, LF and CRLF into one
   * `data:` line each; the parser joins them back with LF. Without `data` the
   * frame only sets `id` or `retry` and dispatches no event.
   */
  data?: string
  /** The event type (`event:`), dispatched as a named event. Must not contain CR or LF. */
  event?: string
  /**
   * The event id (`id:`), which the client sends back as `Last-Event-ID` when
   * it reconnects. Must not contain CR, LF or U+0000 (parsers ignore such ids).
   */
  id?: string
  /** The client's reconnection time in milliseconds (`retry:`): a non-negative integer. */
  retry?: number
}

// The spec's three line endings; CRLF first so it counts as one break.
const LINE_BREAK = /\r\n|\r|\n/

function refuse(field: string, value: string, forbidden: RegExp, what: string): void {
  if (forbidden.test(value)) throw new TypeError(`SSE field "${field}" must not contain ${what}`)
}

// Always one space after the colon: the parser strips exactly one, so a value
// that starts with a space keeps it.
function line(field: string, value: string): string {
  return `${field}: ${value}\n`
}

/** Encodes one event, ending with the blank line that dispatches it. */
export function encodeEvent(event: ServerSentEvent): string {
  let text = ''
  if (event.event !== undefined) {
    refuse('event', event.event, /[\r\n]/, 'CR or LF')
    text += line('event', event.event)
  }
  if (event.id !== undefined) {
    refuse('id', event.id, /[\r\n\0]/, 'CR, LF or U+0000')
    text += line('id', event.id)
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new TypeError(`SSE field "retry" must be a non-negative integer, got ${event.retry}`)
    }
    text += line('retry', String(event.retry))
  }
  if (event.data !== undefined) {
    for (const part of event.data.split(LINE_BREAK)) text += line('data', part)
  }
  return `${text}\n`
}

/** Encodes a comment, one `:` line per line of text; clients ignore it. */
export function encodeComment(text = ''): string {
  if (text === '') return ':\n'
  return text
    .split(LINE_BREAK)
    .map((part) => `: ${part}\n`)
    .join('')
}
