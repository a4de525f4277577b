/**
 * The README shows the consumer files that the package tests run: each must
 * appear in it verbatim, as one whole code block, so what users copy is what
 * was tested.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const consumer = new URL('./consumer/', import.meta.url)
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((match) => match[1])

describe('README.md', () => {
  it.each(readdirSync(consumer))('shows test/package/consumer/%s as one code block', (file) => {
    expect(blocks).toContain(readFileSync(new URL(file, consumer), 'utf8'))
  })
})
