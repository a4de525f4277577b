/**
 * The README shows the consumer files that the package tests run: each must
 * appear in it verbatim, as one whole code block, so what users copy is what
 * was tested. consumer/ is the embedding example on every runtime,
 * consumer-topics/ the topics Worker of "Topics on Workers", consumer-redis/
 * the chat rooms on Redis.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const blocks = [...readme.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((match) => match[1])

describe.each(['consumer', 'consumer-topics', 'consumer-redis'])('README.md and test/package/%s/', (folder) => {
  const files = new URL(`./${folder}/`, import.meta.url)
  it.each(readdirSync(files))('shows %s as one code block', (file) => {
    expect(blocks).toContain(readFileSync(new URL(file, files), 'utf8'))
  })
})
