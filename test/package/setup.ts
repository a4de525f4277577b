/**
 * Global setup of the package project: `npm pack` once (its prepack builds
 * dist/), into a temp folder, for every test file to install or inspect.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { repoRoot, run } from '../support/consumer.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The packed tarball: its path, npm's integrity of it, the version, and the files in it. */
    tarball: { path: string; integrity: string; version: string; files: string[] }
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-sse-pack-'))
  // prepack's output goes to stderr, the JSON alone to stdout.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], repoRoot)
  const [packed] = JSON.parse(stdout)
  project.provide('tarball', {
    path: join(dir, packed.filename),
    integrity: packed.integrity,
    version: packed.version,
    files: packed.files.map((file: { path: string }) => file.path),
  })
  return () => rmSync(dir, { recursive: true, force: true })
}
