import { describe, expect, it } from 'vitest'
import { lastEventId } from '../../src/last-event-id.ts'

const request = (header?: string, query = '') =>
  new Request(`http://localhost/events${query}`, header === undefined ? {} : { headers: { 'Last-Event-ID': header } })

describe('lastEventId', () => {
  it('reads the header a reconnecting browser sends', () => {
    expect(lastEventId(request('3'))).toBe(3)
  })

  it('is 0 for a first connection', () => {
    expect(lastEventId(request())).toBe(0)
  })

  it('reads the lastEventId query parameter of polyfills', () => {
    expect(lastEventId(request(undefined, '?lastEventId=4'))).toBe(4)
  })

  it('prefers the header over the query parameter', () => {
    expect(lastEventId(request('2', '?lastEventId=4'))).toBe(2)
  })

  it.each([
    ['empty', ''],
    ['negative', '-1'],
    ['exponent', '1e3'],
    ['fraction', '2.5'],
    ['hex', '0x3'],
    ['10,000 digits', '9'.repeat(10_000)],
    ['Arabic-Indic digits', '٣'],
    ['fullwidth digits', '３'],
    ['two values joined by a repeated header', '3, 4'],
    ['words', 'abc'],
  ])('ignores an id we never issued (%s), so the stream restarts at 1', (_, value) => {
    // On the wire a header is bytes: UTF-8 digits arrive as their Latin-1 reading.
    const header = String.fromCharCode(...new TextEncoder().encode(value))
    expect(lastEventId(request(header))).toBe(0)
    expect(lastEventId(request(undefined, `?lastEventId=${encodeURIComponent(value)}`))).toBe(0)
  })
})
