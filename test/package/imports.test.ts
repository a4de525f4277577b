/**
 * The library runs on every runtime only if it needs none: from its entry,
 * src/lib/index.ts, nothing it imports (type imports too, since they end up
 * in the .d.ts) names a package but hono, so no node:*, hono/bun, hono/deno,
 * @hono/node-server or cloudflare:*. The Workers subpath, src/lib/cloudflare.ts,
 * imports its runtime's `cloudflare:workers` and nothing else.
 */
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/** The packages that `entry` and every file it imports, transitively, name; and how many files it walked. */
function packagesFrom(entry: URL): { packages: string[]; files: number } {
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
  return { packages: [...packages], files: seen.size }
}

describe('src/lib', () => {
  it('imports no package but hono, from its entry on', () => {
    const { packages, files } = packagesFrom(new URL('../../src/lib/index.ts', import.meta.url))
    expect(packages).toEqual(['hono'])
    // The walk did follow the entry's imports.
    expect(files).toBeGreaterThan(5)
  })

  it('imports cloudflare:workers and nothing else from edge-sse/cloudflare on', () => {
    const { packages, files } = packagesFrom(new URL('../../src/lib/cloudflare.ts', import.meta.url))
    expect(packages).toEqual(['cloudflare:workers'])
    expect(files).toBeGreaterThan(5)
  })
})
