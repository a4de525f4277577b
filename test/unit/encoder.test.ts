/// <reference lib="es2024.string" />
// The encoder is checked two ways: against eventsource-parser, an independent
// parser, and against `interpret`, a line-by-line transcription of HTML §9.2.6
// "Event stream interpretation" used where that parser departs from the spec
// (it leaves the event type undefined instead of "message", and forgets the
// last event ID after every event instead of keeping it).
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { encodeComment, encodeEvent, type ServerSentEvent } from '../../src/lib/encoder.ts'

const utf8 = new TextEncoder()

/** What a browser's EventSource dispatches (§9.2.6), step by step. */
function interpret(bytes: Uint8Array) {
  // "UTF-8 decode": invalid sequences become U+FFFD and one leading BOM is dropped.
  const lines = new TextDecoder().decode(bytes).split(/\r\n|\r|\n/)
  lines.pop() // Text after the last line break is an unfinished line, discarded at end of file.
  const events: { type: string; data: string; lastEventId: string }[] = []
  const retries: number[] = []
  let data = ''
  let type = ''
  let lastEventIdBuffer = ''
  let lastEventId = ''
  for (const line of lines) {
    if (line === '') {
      // Dispatch: the last event ID buffer is never reset, even when nothing fires.
      lastEventId = lastEventIdBuffer
      if (data !== '') events.push({ type: type || 'message', data: data.replace(/\n$/, ''), lastEventId })
      data = ''
      type = ''
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const raw = colon === -1 ? '' : line.slice(colon + 1)
    const value = raw.startsWith(' ') ? raw.slice(1) : raw
    if (field === 'event') type = value
    else if (field === 'data') data += `${value}\n`
    else if (field === 'id' && !value.includes('\0')) lastEventIdBuffer = value
    else if (field === 'retry' && /^[0-9]+$/.test(value)) retries.push(Number(value))
  }
  return { events, retries, lastEventId }
}

/** What eventsource-parser reports for a stream fed in these chunks. */
function parse(...chunks: string[]) {
  const events: EventSourceMessage[] = []
  const retries: number[] = []
  const comments: string[] = []
  const errors: ParseError[] = []
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onRetry: (retry) => retries.push(retry),
    onComment: (comment) => comments.push(comment),
    onError: (error) => errors.push(error),
  })
  for (const chunk of chunks) parser.feed(chunk)
  return { events, retries, comments, errors }
}

/** Bytes cut at arbitrary offsets (also inside a UTF-8 sequence) and decoded as a client would. */
function decodeInChunks(bytes: Uint8Array, cuts: number[]): string[] {
  const decoder = new TextDecoder()
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: string[] = []
  let start = 0
  for (const end of offsets) {
    chunks.push(decoder.decode(bytes.subarray(start, end), { stream: true }))
    start = end
  }
  chunks.push(decoder.decode(bytes.subarray(start)))
  return chunks
}

/** What the spec says a client sees of a data value: every CR and CRLF is an LF. */
const normalised = (text: string) => text.replace(/\r\n?/g, '\n')
/** ...and after UTF-8 encoding, where every lone surrogate has become U+FFFD. */
const received = (text: string) => normalised(text).toWellFormed()

// Text that tries hard to break the format: any code point, any UTF-16 code
// unit (lone surrogates included), and fragments that mean something on the wire.
const tricky = fc.constantFrom(
  ...['\r', '\n', '\r\n', '\n\r', '\r\r', ' ', '  ', '\t', '\0', '\uFEFF', '\u2028', '\u2029', '\u0085'],
  ...['\uD83D', '\uDE00', ':', 'data:', 'data: x', 'id: 9', 'event: x', 'retry: 1', '\n\ndata: injected\n\n'],
)
const text = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)), maxLength: 4 }) },
      { weight: 3, arbitrary: tricky },
    ),
    { maxLength: 6 },
  )
  .map((pieces) => pieces.join(''))
const oneLine = text.map((value) => value.replace(/[\r\n]/g, ''))
const validId = oneLine.map((value) => value.replaceAll('\0', ''))
const retry = fc.oneof(fc.nat(), fc.maxSafeNat())
const serverEvent: fc.Arbitrary<ServerSentEvent> = fc.record(
  { data: text, event: oneLine, id: validId, retry },
  { requiredKeys: [] },
)
const lineBreak = fc.constantFrom('\r', '\n', '\r\n')
const withBreak = fc.tuple(text, lineBreak, text).map(([a, b, c]) => a + b + c)

describe('the wire format other modules rely on', () => {
  test('keeps "id: 1\\ndata: Message 1\\n\\n" byte for byte', () => {
    expect(encodeEvent({ id: '1', data: 'Message 1' })).toBe('id: 1\ndata: Message 1\n\n')
  })

  test('keeps a retry-only frame as "retry: 3000\\n\\n"', () => {
    expect(encodeEvent({ retry: 3000 })).toBe('retry: 3000\n\n')
  })

  test('keeps the keep-alive comment a bare ":\\n"', () => {
    expect(encodeComment()).toBe(':\n')
  })

  test('writes event, id, retry, data in that order, one field a line', () => {
    expect(encodeEvent({ data: 'd', retry: 5, id: 'i', event: 'e' })).toBe('event: e\nid: i\nretry: 5\ndata: d\n\n')
  })
})

describe('data', () => {
  test('prevents data field injection through LF', () => {
    const wire = encodeEvent({ data: 'a\nid: 666\nevent: evil' })
    expect(wire).toBe('data: a\ndata: id: 666\ndata: event: evil\n\n')
    expect(interpret(utf8.encode(wire)).events).toEqual([
      { type: 'message', data: 'a\nid: 666\nevent: evil', lastEventId: '' },
    ])
  })

  test('prevents data field injection through a lone CR', () => {
    expect(encodeEvent({ data: 'a\rretry: 1' })).toBe('data: a\ndata: retry: 1\n\n')
  })

  test('prevents a second event through a blank line in data', () => {
    const wire = encodeEvent({ data: 'one\n\ndata: two\r\n\r\n' })
    expect(parse(wire).events).toEqual([{ data: 'one\n\ndata: two\n\n' }])
    expect(interpret(utf8.encode(wire)).events).toHaveLength(1)
  })

  test('prevents CRLF from counting as two line breaks (an extra empty line)', () => {
    expect(encodeEvent({ data: 'a\r\nb' })).toBe('data: a\ndata: b\n\n')
    expect(encodeEvent({ data: 'a\n\rb' })).toBe('data: a\ndata: \ndata: b\n\n')
  })

  test('keeps a leading space in data', () => {
    expect(encodeEvent({ data: ' x' })).toBe('data:  x\n\n')
    expect(parse(encodeEvent({ data: '  two\n one' })).events).toEqual([{ data: '  two\n one' }])
  })

  test('keeps an empty string as an event with empty data', () => {
    expect(encodeEvent({ data: '' })).toBe('data: \n\n')
    expect(interpret(utf8.encode(encodeEvent({ data: '' }))).events).toEqual([
      { type: 'message', data: '', lastEventId: '' },
    ])
  })

  test('keeps trailing line breaks, which the spec would otherwise eat', () => {
    // The parser drops only the one LF it added after the last line.
    expect(parse(encodeEvent({ data: 'x\n' })).events).toEqual([{ data: 'x\n' }])
    expect(parse(encodeEvent({ data: '\n' })).events).toEqual([{ data: '\n' }])
  })

  test('prevents splitting on U+2028, U+2029 and NEL, which are not SSE line breaks', () => {
    const data = 'a\u2028b\u2029c\u0085d\u000bv\u000cf'
    expect(encodeEvent({ data })).toBe(`data: ${data}\n\n`)
    expect(parse(encodeEvent({ data })).events).toEqual([{ data }])
  })

  test('prevents an event without data from dispatching', () => {
    const wire = encodeEvent({ event: 'update', id: '7' })
    expect(parse(wire).events).toEqual([])
    expect(interpret(utf8.encode(wire))).toEqual({ events: [], retries: [], lastEventId: '7' })
  })
})

describe('event and id', () => {
  test.each(['\n', '\r', '\r\n'])('refuses an event type with %j, which would inject a field', (br) => {
    expect(() => encodeEvent({ event: `x${br}data: evil`, data: 'ok' })).toThrow(
      new TypeError('SSE field "event" must not contain CR or LF'),
    )
  })

  test.each(['\n', '\r', '\r\n'])('refuses an id with %j, which would inject a field', (br) => {
    expect(() => encodeEvent({ id: `1${br}event: evil` })).toThrow(
      /^SSE field "id" must not contain CR, LF or U\+0000$/,
    )
  })

  test('refuses an id with NUL, which clients would ignore', () => {
    expect(() => encodeEvent({ id: '\0\0', data: 'hello' })).toThrow(TypeError)
    expect(() => encodeEvent({ id: 'x\0', data: 'hello' })).toThrow(/"id"/)
  })

  test('keeps NUL in data and event type, where the spec allows it', () => {
    const wire = encodeEvent({ event: 'a\0b', data: '\0' })
    expect(interpret(utf8.encode(wire)).events).toEqual([{ type: 'a\0b', data: '\0', lastEventId: '' }])
  })

  test('keeps an empty event type meaning "message"', () => {
    const wire = encodeEvent({ event: '', data: 'x' })
    expect(interpret(utf8.encode(wire)).events).toEqual([{ type: 'message', data: 'x', lastEventId: '' }])
  })

  test('keeps a leading space in event type and id', () => {
    const wire = encodeEvent({ event: ' e', id: ' 1', data: 'x' })
    expect(interpret(utf8.encode(wire)).events).toEqual([{ type: ' e', data: 'x', lastEventId: ' 1' }])
  })

  test('prevents an empty id from being dropped: it clears the last event ID', () => {
    const wire = encodeEvent({ id: '1', data: 'a' }) + encodeEvent({ id: '', data: 'b' })
    expect(wire).toContain('id: \n')
    expect(interpret(utf8.encode(wire)).events.map((e) => e.lastEventId)).toEqual(['1', ''])
  })

  test.each<[string, unknown]>([
    ['data', 42],
    ['event', null],
    ['id', 7],
  ])('refuses a non-string %s instead of writing its String()', (field, value) => {
    expect(() => encodeEvent({ [field]: value } as unknown as ServerSentEvent)).toThrow(
      new RegExp(`^SSE field "${field}" must be a string`),
    )
  })
})

describe('retry', () => {
  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, 1e21, -1e-7])(
    'refuses retry %d, which is not plain ASCII digits',
    (value) => {
      expect(() => encodeEvent({ retry: value })).toThrow(/^SSE field "retry" must be a non-negative integer/)
    },
  )

  test('refuses a retry given as a string', () => {
    expect(() => encodeEvent({ retry: '3000' as unknown as number })).toThrow(/"retry"/)
  })

  test('prevents a sign, exponent or leading zero in retry', () => {
    expect(encodeEvent({ retry: 0 })).toBe('retry: 0\n\n')
    expect(encodeEvent({ retry: -0 })).toBe('retry: 0\n\n')
    expect(encodeEvent({ retry: Number.MAX_SAFE_INTEGER })).toBe('retry: 9007199254740991\n\n')
    expect(parse(encodeEvent({ retry: 2000 })).retries).toEqual([2000])
  })
})

describe('comments', () => {
  test('prevents a field injected through a comment spanning lines', () => {
    const wire = encodeComment('one\ndata: evil\r\n\r\ntwo\rid: 6')
    expect(wire).toBe(': one\n: data: evil\n: \n: two\n: id: 6\n')
    expect(parse(wire)).toEqual({
      events: [],
      retries: [],
      comments: ['one', 'data: evil', '', 'two', 'id: 6'],
      errors: [],
    })
    expect(interpret(utf8.encode(wire + encodeEvent({})))).toEqual({ events: [], retries: [], lastEventId: '' })
  })

  test('keeps a leading space in a comment', () => {
    expect(parse(encodeComment('  indented')).comments).toEqual(['  indented'])
  })

  test('prevents a comment from dispatching the event around it', () => {
    // A comment never holds a blank line, so even inside an event it cannot end it early.
    for (const comment of ['', '\n', '\r\n\r\n', 'a\n\nb']) {
      const wire = `data: a\n${encodeComment(comment)}data: b\n\n`
      expect(interpret(utf8.encode(wire)).events).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }])
    }
  })

  test('refuses a non-string comment', () => {
    expect(() => encodeComment(5 as unknown as string)).toThrow(/^SSE comment must be a string/)
  })
})

describe('the worked examples of HTML §9.2', () => {
  test('keeps "data: YHOO\\ndata: +2\\ndata: 10\\n\\n" as one event with three lines', () => {
    const wire = encodeEvent({ data: 'YHOO\n+2\n10' })
    expect(wire).toBe('data: YHOO\ndata: +2\ndata: 10\n\n')
    expect(interpret(utf8.encode(wire)).events).toEqual([{ type: 'message', data: 'YHOO\n+2\n10', lastEventId: '' }])
  })

  test('keeps the three messages, the second spanning two lines', () => {
    const wire = [
      'This is the first message.',
      'This is the second message, it\nhas two lines.',
      'This is the third message.',
    ]
      .map((data) => encodeEvent({ data }))
      .join('')
    expect(wire).toBe(
      'data: This is the first message.\n\n' +
        'data: This is the second message, it\ndata: has two lines.\n\n' +
        'data: This is the third message.\n\n',
    )
  })

  test('keeps named events add, remove, add', () => {
    const sent = [
      { event: 'add', data: '73857293' },
      { event: 'remove', data: '2153' },
      { event: 'add', data: '113411' },
    ]
    const wire = sent.map(encodeEvent).join('')
    expect(wire).toBe('event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n')
    expect(interpret(utf8.encode(wire)).events.map((e) => e.type)).toEqual(['add', 'remove', 'add'])
  })

  test('prevents the first/second/third event example from reading differently', () => {
    const spec = ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n'
    const ours =
      encodeComment('test stream') +
      encodeEvent({}) +
      encodeEvent({ data: 'first event', id: '1' }) +
      encodeEvent({ data: 'second event', id: '' }) +
      encodeEvent({ data: ' third event' })
    const expected = [
      { type: 'message', data: 'first event', lastEventId: '1' },
      { type: 'message', data: 'second event', lastEventId: '' },
      { type: 'message', data: ' third event', lastEventId: '' },
    ]
    expect(interpret(utf8.encode(spec)).events).toEqual(expected)
    expect(interpret(utf8.encode(ours)).events).toEqual(expected)
  })

  test('prevents the empty-data example from losing an event, or leaving one pending', () => {
    // The spec's stream ends in an unfinished "data:", which is discarded; ours never ends mid-event.
    const spec = 'data\n\ndata\ndata\n\ndata:'
    const ours = encodeEvent({ data: '' }) + encodeEvent({ data: '\n' })
    expect(ours).toBe('data: \n\ndata: \ndata: \n\n')
    expect(interpret(utf8.encode(ours)).events).toEqual(interpret(utf8.encode(spec)).events)
    expect(interpret(utf8.encode(ours)).events.map((e) => e.data)).toEqual(['', '\n'])
  })

  test('keeps "data:test" and "data: test" the same by always writing the space', () => {
    const spec = interpret(utf8.encode('data:test\n\ndata: test\n\n')).events
    expect(spec.map((e) => e.data)).toEqual(['test', 'test'])
    expect(encodeEvent({ data: 'test' })).toBe('data: test\n\n')
  })
})

// Each case first checks that `interpret` reads the WPT stream as WPT expects
// (so the reference is right), then what our encoder does about it.
describe('web-platform-tests eventsource/format-*', () => {
  test('format-bom: prevents a stream that starts with a BOM, which would lose the first field', () => {
    const bom = '\uFEFF'
    expect(interpret(utf8.encode(`${bom}data:1\n\n${bom}data:2\n\ndata:3\n\n`)).events.map((e) => e.data)).toEqual([
      '1',
      '3',
    ])
    // format-bom-2: the second BOM is part of the first field's name.
    expect(interpret(utf8.encode(`${bom}${bom}data:1\n\ndata:2\n\n`)).events.map((e) => e.data)).toEqual(['2'])
    for (const wire of [encodeEvent({ data: `${bom}x` }), encodeEvent({ event: bom, data: bom }), encodeComment(bom)]) {
      expect([...utf8.encode(wire).subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf])
    }
    // A BOM that starts the data is data, and survives decoding.
    const wire = utf8.encode(encodeEvent({ data: `${bom}x` }))
    expect(interpret(wire).events[0]?.data).toBe(`${bom}x`)
    expect(parse(new TextDecoder().decode(wire)).events).toEqual([{ data: `${bom}x` }])
  })

  test('format-comments: keeps comments, even "data:fail", out of the data', () => {
    const long = 'x'.repeat(2048)
    const wpt = `data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n\n`
    expect(interpret(utf8.encode(wpt)).events.map((e) => e.data)).toEqual(['1\n2\n3\n4'])
    const ours = encodeComment('\0\n') + encodeComment(long) + encodeComment('data:fail') + encodeEvent({ data: '1' })
    expect(interpret(utf8.encode(ours)).events.map((e) => e.data)).toEqual(['1'])
    expect(parse(ours).comments).toEqual(['\0', '', long, 'data:fail'])
  })

  test('format-data-before-final-empty-line: prevents an event left pending at end of stream', () => {
    const wpt = 'retry:1000\ndata:test1\n\nid:test\ndata:test2'
    expect(interpret(utf8.encode(wpt)).events).toEqual([{ type: 'message', data: 'test1', lastEventId: '' }])
    expect(encodeEvent({ id: 'test', data: 'test2' })).toMatch(/\n\n$/)
  })

  test('format-field-data: keeps "" and "\\n" as data, and dispatches nothing without data', () => {
    const wpt = 'data:\n\ndata\ndata\n\ndata:test\n\n'
    expect(interpret(utf8.encode(wpt)).events.map((e) => e.data)).toEqual(['', '\n', 'test'])
    const ours = [{ data: '' }, { data: '\n' }, {}, { data: 'test' }].map(encodeEvent).join('')
    expect(interpret(utf8.encode(ours)).events.map((e) => e.data)).toEqual(['', '\n', 'test'])
  })

  test('format-field-event and -event-empty: keeps the type per event, "" meaning message', () => {
    expect(interpret(utf8.encode('event: \ndata:data\n\n')).events).toEqual([
      { type: 'message', data: 'data', lastEventId: '' },
    ])
    const ours =
      encodeEvent({ event: 'test', data: 'x' }) + encodeEvent({ data: 'x' }) + encodeEvent({ event: '', data: 'y' })
    expect(interpret(utf8.encode(ours)).events.map((e) => e.type)).toEqual(['test', 'message', 'message'])
    // eventsource-parser reports the default type as undefined rather than "message".
    expect(parse(ours).events.map((e) => e.event)).toEqual(['test', undefined, undefined])
  })

  test('format-field-id-3: keeps the last event ID across events until the next id', () => {
    const persists = 'id: 1\ndata: 1\n\ndata:2\n\n'
    const changes = 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n'
    const resets = 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n'
    const ids = (wire: string) => interpret(utf8.encode(wire)).events.map((e) => e.lastEventId)
    expect([ids(persists), ids(changes), ids(resets)]).toEqual([
      ['1', '1'],
      ['1', '2', '2'],
      ['1', '', ''],
    ])
    const ours = (...sent: ServerSentEvent[]) => ids(sent.map(encodeEvent).join(''))
    expect(ours({ id: '1', data: '1' }, { data: '2' })).toEqual(['1', '1'])
    expect(ours({ id: '1', data: '1' }, { id: '2', data: '2' }, { data: '3' })).toEqual(['1', '2', '2'])
    expect(ours({ id: '1', data: '1' }, { id: '', data: '2' }, { data: '3' })).toEqual(['1', '', ''])
    // An id-only frame moves the last event ID without firing; eventsource-parser drops it.
    expect(ours({ id: '5' }, { data: 'x' })).toEqual(['5'])
  })

  test('format-field-id-null: refuses the id a client would ignore, keeping the previous one', () => {
    expect(interpret(utf8.encode('id: 1\n\nid:x\0\ndata:x\n\n')).events).toEqual([
      { type: 'message', data: 'x', lastEventId: '1' },
    ])
    expect(() => encodeEvent({ id: '\0\0', data: 'hello' })).toThrow(/"id"/)
  })

  test('format-field-retry and -retry-bogus: prevents a retry a client would ignore or misread', () => {
    expect(interpret(utf8.encode('retry:02000\nretry:1000x\nretry\ndata:x\n\n')).retries).toEqual([2000])
    expect(() => encodeEvent({ retry: 1000.5 })).toThrow(/"retry"/)
    expect(interpret(utf8.encode(encodeEvent({ retry: 2000, data: 'x' }))).retries).toEqual([2000])
  })

  test('format-leading-space: keeps a tab and a leading space, where only one space is stripped', () => {
    expect(interpret(utf8.encode('data:\ttest\rdata: \ndata:test\n\n')).events[0]?.data).toBe('\ttest\n\ntest')
    const data = '\ttest\n\n test'
    expect(interpret(utf8.encode(encodeEvent({ data }))).events[0]?.data).toBe(data)
  })

  test('format-newlines: prevents CR from reaching the wire, whatever breaks the data has', () => {
    expect(interpret(utf8.encode('data:test\r\ndata\ndata:test\r\n\r')).events[0]?.data).toBe('test\n\ntest')
    const wire = encodeEvent({ data: 'test\r\n\rtest' })
    expect(wire).toBe('data: test\ndata: \ndata: test\n\n')
    expect(interpret(utf8.encode(wire)).events[0]?.data).toBe('test\n\ntest')
  })

  test('format-field-parsing and format-null-character: keeps NUL in data', () => {
    const wpt =
      'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n'
    expect(interpret(utf8.encode(wpt)).events[0]?.data).toBe('\0\n 2\n1\n3\n\n4')
    expect(interpret(utf8.encode(encodeEvent({ data: '\0\n 2\n1\n3\n\n4' }))).events[0]?.data).toBe('\0\n 2\n1\n3\n\n4')
  })

  test('format-utf-8: keeps non-ASCII text as UTF-8 bytes', () => {
    expect([...utf8.encode(encodeEvent({ data: 'ok…' }))]).toEqual([
      ...utf8.encode('data: ok'),
      0xe2,
      0x80,
      0xa6,
      10,
      10,
    ])
  })
})

describe('properties', () => {
  test('prevents any data, event or id from reading back differently (eventsource-parser, bytes)', () => {
    fc.assert(
      fc.property(serverEvent, (event) => {
        const { events, retries, errors } = parse(new TextDecoder().decode(utf8.encode(encodeEvent(event))))
        expect(errors).toEqual([])
        expect(retries).toEqual(event.retry === undefined ? [] : [event.retry])
        const sent = { data: event.data, event: event.event?.toWellFormed() || undefined, id: event.id?.toWellFormed() }
        expect(events).toEqual(event.data === undefined ? [] : [{ ...sent, data: received(event.data) }])
      }),
      { numRuns: 500 },
    )
  })

  test('prevents any data, event or id from reading back differently (fed as a string)', () => {
    // Without UTF-8 in between, lone surrogates stay as they are.
    fc.assert(
      fc.property(serverEvent, (event) => {
        const { events } = parse(encodeEvent(event))
        const sent = { event: event.event || undefined, id: event.id }
        expect(events).toEqual(event.data === undefined ? [] : [{ ...sent, data: normalised(event.data) }])
      }),
      { numRuns: 500 },
    )
  })

  test('prevents a stream of events and comments from reading differently, however it is chunked', () => {
    const item = fc.oneof(
      serverEvent,
      text.map((comment) => ({ comment })),
    )
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (items, cuts) => {
        const wire = items.map((it) => ('comment' in it ? encodeComment(it.comment) : encodeEvent(it))).join('')
        const bytes = utf8.encode(wire)
        // What the spec says a client sees: the last event ID carries over between events.
        let lastEventId = ''
        const expected: { type: string; data: string; lastEventId: string }[] = []
        const comments: string[] = []
        const ownIds: (string | undefined)[] = [] // eventsource-parser reports only an event's own id
        for (const it of items) {
          if ('comment' in it) comments.push(...received(it.comment).split('\n'))
          else {
            if (it.id !== undefined) lastEventId = it.id.toWellFormed()
            if (it.data !== undefined) {
              expected.push({ type: it.event?.toWellFormed() || 'message', data: received(it.data), lastEventId })
              ownIds.push(it.id?.toWellFormed())
            }
          }
        }
        expect(interpret(bytes).events).toEqual(expected)
        const parsed = parse(...decodeInChunks(bytes, cuts))
        expect(parsed.errors).toEqual([])
        expect(parsed.comments).toEqual(comments)
        expect(parsed.events.map((e) => e.data)).toEqual(expected.map((e) => e.data))
        expect(parsed.events.map((e) => e.id)).toEqual(ownIds)
      }),
      { numRuns: 300 },
    )
  })

  test('prevents early dispatch and stray fields: only known fields, one blank line, at the end, no CR', () => {
    fc.assert(
      fc.property(serverEvent, (event) => {
        const lines = encodeEvent(event).split('\n')
        expect(lines.slice(-2)).toEqual(['', ''])
        for (const line of lines.slice(0, -2)) expect(line).toMatch(/^(event|id|retry|data): [^\r]*$/)
      }),
    )
    fc.assert(
      fc.property(text, (comment) => {
        const lines = encodeComment(comment).split('\n')
        expect(lines.pop()).toBe('')
        for (const line of lines) expect(line).toMatch(/^:( [^\r]*)?$/)
      }),
    )
  })

  test('keeps comments round-tripping through onComment, one per line', () => {
    fc.assert(
      fc.property(text, (comment) => {
        const parsed = parse(new TextDecoder().decode(utf8.encode(encodeComment(comment))))
        expect(parsed.events).toEqual([])
        expect(parsed.errors).toEqual([])
        expect(parsed.comments.join('\n')).toBe(received(comment))
      }),
      { numRuns: 300 },
    )
  })

  test('refuses every event type with a line break, naming the field', () => {
    fc.assert(
      fc.property(serverEvent, withBreak, (event, bad) => {
        expect(() => encodeEvent({ ...event, event: bad })).toThrow(
          new TypeError('SSE field "event" must not contain CR or LF'),
        )
      }),
    )
  })

  test('refuses every id with a line break or NUL, naming the field', () => {
    const badId = fc.oneof(
      withBreak,
      fc.tuple(text, text).map(([a, b]) => `${a}\0${b}`),
    )
    fc.assert(
      fc.property(serverEvent, badId, (event, bad) => {
        expect(() => encodeEvent({ ...event, id: bad })).toThrow(
          new TypeError('SSE field "id" must not contain CR, LF or U+0000'),
        )
      }),
    )
  })

  test('refuses every retry that is not a non-negative safe integer, naming the field', () => {
    const badRetry = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double().filter((n) => !Number.isSafeInteger(n) || n < 0),
      fc.constantFrom(Number.NaN, 2 ** 53, Number.MAX_VALUE, 0.1),
    )
    fc.assert(
      fc.property(serverEvent, badRetry, (event, bad) => {
        expect(() => encodeEvent({ ...event, retry: bad })).toThrow(/^SSE field "retry" must be a non-negative integer/)
      }),
    )
  })

  test('prevents hidden state: the same event always encodes the same, and is left as it was', () => {
    fc.assert(
      fc.property(serverEvent, (event) => {
        const frozen = Object.freeze({ ...event })
        expect(encodeEvent(frozen)).toBe(encodeEvent(frozen))
        expect(frozen).toEqual(event)
      }),
    )
  })
})
