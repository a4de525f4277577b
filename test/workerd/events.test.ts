import { exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'

it('streams five frames', async () => {
  const res = await exports.default.fetch('http://example.com/events')
  expect(res.status).toBe(200)
  const text = await res.text()
  expect(text).toBe('x')
})
