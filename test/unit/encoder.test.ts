import { describe, expect, it } from 'vitest'
import { encodeComment, encodeEvent } from '../../src/encoder.ts'

describe('encodeEvent', () => {
  it('writes id, then data, then the blank line that dispatches', () => {
    expect(encodeEvent({ id: '1', data: 'Message 1' })).toBe('id: 1\ndata: Message 1\n\n')
  })
})
