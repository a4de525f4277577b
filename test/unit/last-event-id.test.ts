import { describe, expect, it } from 'vitest'
import { lastEventId } from '../../src/lib/last-event-id.ts'

const request = (header?: string, query = '') =>
  new Request(`http://localhost/events${query}`, header === undefined ? {} : { headers: { 'Last-Event-ID': header } })

describe('lastEventId', () => {
  it('reads the header a reconnecting browser sends', () => {
    expect(lastEventId(request('3'))).toBe('3')
  })

  it('is undefined for a first connection', () => {
    expect(lastEventId(request())).toBeUndefined()
  })

  it('is undefined for an empty id, which means "no id" to EventSource', () => {
    expect(lastEventId(request(''))).toBeUndefined()
    expect(lastEventId(request(undefined, '?lastEventId='))).toBeUndefined()
  })

  it('reads the lastEventId query parameter of polyfills', () => {
    expect(lastEventId(request(undefined, '?lastEventId=4'))).toBe('4')
  })

  it('prefers the header over the query parameter', () => {
    expect(lastEventId(request('2', '?lastEventId=4'))).toBe('2')
  })

  it('hands over any other id as sent, for the source to check', () => {
    expect(lastEventId(request('quote-7f3a'))).toBe('quote-7f3a')
    expect(lastEventId(request(undefined, `?lastEventId=${encodeURIComponent('a b/ü')}`))).toBe('a b/ü')
  })
})
