/**
 * The library runs on every runtime only if it needs none: from its entry,
 * src/lib/index.ts, nothing it imports (type imports too, since they end up
 * in the .d.ts) names a package but hono, so no node:*, hono/bun, hono/deno
 * or @hono/node-server.
 */
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const entry = new URL('../../src/lib/index.ts', import.meta.url)

describe('src/lib', () => {
  it('imports no package but hono, from its entry on', () => {
    const packages = new Set<string>()
    const seen = new Set<string>()
    const pending = [entry]
    for (let file = pending.pop(); file; file = pending.pop()) {
      if (seen.has(file.href)) continue
      seen.add(file.href)
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
      // A triple-slash `types` reference pulls in a runtime's types as surely as an import.
      for (const { fileName } of info.typeReferenceDirectives) packages.add(`types:${fileName}`)
      for (const { fileName } of info.importedFiles) {
        if (fileName.startsWith('.')) pending.push(new URL(fileName, file))
        else packages.add(fileName)
      }
    }
    expect([...packages]).toEqual(['hono'])
    // The walk did follow the entry's imports.
    expect(seen.size).toBeGreaterThan(5)
  })
})
