import { describe, expect, it } from 'vitest'
import { defaultSettings, parseSettings, readPublishToken, SettingsError } from '../../src/lib/settings.ts'

describe('parseSettings', () => {
  it('gives the defaults when nothing is set', () => {
    expect(parseSettings({})).toEqual({
      frames: 5,
      intervalMs: 1000,
      retryMs: 3000,
      keepAliveMs: 15000,
      maxStreams: 0,
      busyRetryMs: 30000,
      topicHistory: 100,
      topicHistoryMs: 3600000,
    })
    expect(parseSettings({})).toEqual(defaultSettings)
  })

  it('reads every variable', () => {
    expect(
      parseSettings({
        SSE_FRAMES: '7',
        SSE_INTERVAL_MS: '20',
        SSE_RETRY_MS: '0',
        SSE_KEEPALIVE_MS: '500',
        SSE_MAX_STREAMS: '100',
        SSE_BUSY_RETRY_MS: '60000',
        SSE_TOPIC_HISTORY: '5',
        SSE_TOPIC_HISTORY_MS: '0',
      }),
    ).toEqual({
      frames: 7,
      intervalMs: 20,
      retryMs: 0,
      keepAliveMs: 500,
      maxStreams: 100,
      busyRetryMs: 60000,
      topicHistory: 5,
      topicHistoryMs: 0,
    })
  })

  it('treats an empty variable as unset', () => {
    expect(parseSettings({ SSE_FRAMES: '' }).frames).toBe(5)
  })

  it.each([
    ['SSE_FRAMES', 'five', 'SSE_FRAMES must be an integer from 1 to 1000000, got "five"'],
    ['SSE_FRAMES', '0', 'SSE_FRAMES must be an integer from 1 to 1000000, got "0"'],
    ['SSE_FRAMES', '2.5', 'SSE_FRAMES must be an integer from 1 to 1000000, got "2.5"'],
    ['SSE_FRAMES', '1e3', 'SSE_FRAMES must be an integer from 1 to 1000000, got "1e3"'],
    ['SSE_INTERVAL_MS', '-1', 'SSE_INTERVAL_MS must be an integer from 1 to 3600000, got "-1"'],
    ['SSE_INTERVAL_MS', '3600001', 'SSE_INTERVAL_MS must be an integer from 1 to 3600000, got "3600001"'],
    ['SSE_RETRY_MS', '0x10', 'SSE_RETRY_MS must be an integer from 0 to 3600000, got "0x10"'],
    ['SSE_KEEPALIVE_MS', '5', 'SSE_KEEPALIVE_MS must be an integer from 10 to 3600000, got "5"'],
    ['SSE_MAX_STREAMS', 'lots', 'SSE_MAX_STREAMS must be an integer from 0 to 1000000, got "lots"'],
    ['SSE_TOPIC_HISTORY', '0', 'SSE_TOPIC_HISTORY must be an integer from 1 to 100000, got "0"'],
    ['SSE_TOPIC_HISTORY_MS', '86400001', 'SSE_TOPIC_HISTORY_MS must be an integer from 0 to 86400000, got "86400001"'],
  ])('refuses %s=%s with a line naming the variable and its range', (variable, value, message) => {
    expect(() => parseSettings({ [variable]: value })).toThrow(new SettingsError(message))
  })
})

describe('readPublishToken', () => {
  it('is off when SSE_PUBLISH_TOKEN is unset or empty', () => {
    expect(readPublishToken({})).toBeUndefined()
    expect(readPublishToken({ SSE_PUBLISH_TOKEN: '' })).toBeUndefined()
  })

  it('reads a token of 16 or more printable characters', () => {
    expect(readPublishToken({ SSE_PUBLISH_TOKEN: 'a-long-enough-token!' })).toBe('a-long-enough-token!')
  })

  it.each(['short', 'has a space inside it', 'tab\tinside-a-long-token', 'é'.repeat(20)])(
    'refuses %j with a line naming the variable',
    (token) => {
      expect(() => readPublishToken({ SSE_PUBLISH_TOKEN: token })).toThrow(
        new SettingsError('SSE_PUBLISH_TOKEN must be 16 to 256 printable ASCII characters without spaces'),
      )
    },
  )
})
