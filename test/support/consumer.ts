/**
 * Scratch projects outside the repo that install the packed tarball as a user
 * would, from npm's cache alone, and the processes they run, watched for output.
 */
import { execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type WatchedProcess, watchProcess } from './process.ts'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
/** The copy-pasteable user code the README shows. */
export const consumerDir = fileURLToPath(new URL('../package/consumer/', import.meta.url))
/** A binary of the repo's own devDependencies (bun, deno, wrangler, tsc). */
export const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name)

/** The environment of every child: this Node (22) first on PATH, as npm scripts have it, and no telemetry. */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`,
  WRANGLER_SEND_METRICS: 'false',
  ...extra,
})

/** Runs a command to its end; rejects with its output if it fails. */
export async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, { cwd, env: childEnv(env), maxBuffer: 16 * 1024 * 1024 })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`)
  }
}

type LockEntry = { version: string; integrity: string; dependencies?: Record<string, string> }
const repoLock: Record<string, LockEntry & { name?: string; dev?: boolean }> = JSON.parse(
  readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'),
).packages

// A package of the repo's lockfile with its dependencies, as entries of another lockfile.
function lockEntries(name: string, repoKey: string, into: Record<string, LockEntry>): void {
  const key = `node_modules/${name}`
  if (into[key]) return
  const found = repoLock[repoKey]
  if (!found) throw new Error(`${repoKey} is not in package-lock.json`)
  const { name: _alias, dev: _dev, ...entry } = found
  into[key] = entry
  for (const dependency of Object.keys(entry.dependencies ?? {})) {
    lockEntries(dependency, `node_modules/${dependency}`, into)
  }
}

/**
 * A temp folder with the consumer files and `npm ci --offline` of the tarball
 * plus `packages` (name to its key in the repo's lockfile, e.g. `hono` to
 * `node_modules/hono-4.0.0`). The lockfile is written from the repo's own: a
 * fresh `npm ci` caches tarballs but no registry metadata, so `npm install
 * hono@4.0.0 --offline` would fail there (ENOTCACHED), and with
 * `--prefer-offline` it would ask the registry.
 */
export async function installConsumer(
  tarball: { path: string; integrity: string; version: string },
  packages: Record<string, string>,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-sse-consumer-'))
  cpSync(consumerDir, dir, { recursive: true })
  const entries: Record<string, LockEntry> = {}
  const dependencies: Record<string, string> = { 'edge-sse': `file:${tarball.path}` }
  for (const [name, repoKey] of Object.entries(packages)) {
    lockEntries(name, repoKey, entries)
    dependencies[name] = (entries[`node_modules/${name}`] as LockEntry).version
  }
  const edgeSse = { version: tarball.version, resolved: dependencies['edge-sse'], integrity: tarball.integrity }
  const manifest = { name: 'edge-sse-consumer', private: true, type: 'module', dependencies }
  const lock = {
    name: manifest.name,
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: manifest.name, dependencies }, 'node_modules/edge-sse': edgeSse, ...entries },
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`)
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], dir)
  return dir
}

/** Starts `command` in `cwd` in a process group of its own, and watches what it prints. */
export function spawnWatched(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): WatchedProcess {
  const child = spawn(command, args, {
    cwd,
    env: childEnv(env),
    detached: true, // its own process group, so stop() reaches wrangler's workerd too
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return watchProcess(child, command)
}

// What a careful user turns on; `allowImportingTsExtensions` because the
// consumer files import './app.ts', which Node, Bun, Deno and wrangler run as is.
const strict = {
  target: 'ES2023',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  noEmit: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
}

/** Type-checks `files` in `dir` with the repo's tsc and these options over {@link strict}. */
export async function typecheck(dir: string, name: string, options: object, files: string[]): Promise<void> {
  writeFileSync(join(dir, name), JSON.stringify({ compilerOptions: { ...strict, ...options }, files }))
  await run(bin('tsc'), ['-p', name], dir)
}
