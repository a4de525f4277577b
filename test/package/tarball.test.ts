/**
 * What `npm pack` and `deno publish` ship: the files, the package.json, the
 * declarations' imports, a strict TypeScript project on every runtime's types
 * against the installed package, and the JSR checks (docs, slow types, files).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bin, installConsumer, repoRoot, run, typecheck } from '../support/consumer.ts'

const tarball = inject('tarball')
const modules = readdirSync(join(repoRoot, 'src/lib'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -3))

let current: string // the repo's hono, and every runtime's types
let oldest: string // hono 4.0.0
beforeAll(async () => {
  ;[current, oldest] = await Promise.all([
    installConsumer(tarball, {
      hono: 'node_modules/hono',
      '@hono/node-server': 'node_modules/@hono/node-server',
      '@types/node': 'node_modules/@types/node',
      '@types/bun': 'node_modules/@types/bun',
    }),
    installConsumer(tarball, { hono: 'node_modules/hono-4.0.0' }),
  ])
})
afterAll(() => {
  for (const folder of [current, oldest]) if (folder) rmSync(folder, { recursive: true, force: true })
})

describe('npm pack', () => {
  it('holds the built library, README, LICENSE and CHANGELOG, nothing else', () => {
    const built = modules.flatMap((module) => [`dist/${module}.js`, `dist/${module}.d.ts`])
    const expected = ['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json', ...built]
    expect([...tarball.files].sort()).toEqual(expected.sort())
  })

  it('is a public ES module package whose exports map gives the types first', () => {
    const manifest = JSON.parse(readFileSync(join(current, 'node_modules/edge-sse/package.json'), 'utf8'))
    expect(manifest.private).toBeUndefined()
    expect(manifest.type).toBe('module')
    expect(manifest.exports).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './cloudflare': { types: './dist/cloudflare.d.ts', default: './dist/cloudflare.js' },
      './redis': { types: './dist/redis.d.ts', default: './dist/redis.js' },
    })
    // ioredis only for edge-sse/redis: optional, so npm installs it only for those who add it.
    expect(manifest.peerDependencies).toEqual({ hono: '^4.0.0', ioredis: '^6.1.0' })
    expect(manifest.peerDependenciesMeta).toEqual({ ioredis: { optional: true } })
    expect(manifest.dependencies).toBeUndefined()
  })

  it('has code and declarations that import only hono and .js files that exist, cloudflare:workers for the Durable Object, and ioredis types for the Redis store', () => {
    const dist = join(current, 'node_modules/edge-sse/dist')
    const shipped = new Set(readdirSync(dist))
    for (const file of shipped) {
      const { importedFiles, typeReferenceDirectives } = ts.preProcessFile(readFileSync(join(dist, file), 'utf8'))
      expect(typeReferenceDirectives, file).toEqual([])
      for (const { fileName } of importedFiles) {
        if (!fileName.startsWith('.')) {
          // The one runtime import, of edge-sse/cloudflare alone (the main entry's are checked in imports.test.ts);
          // the Redis store takes the user's client: its type, never its code.
          const allowed = file.startsWith('topic-object.')
            ? ['cloudflare:workers']
            : /^redis[\w-]*\.d\.ts$/.test(file)
              ? ['hono', 'ioredis']
              : ['hono']
          expect(allowed, file).toContain(fileName)
          continue
        }
        // tsc rewrites './x.ts' in the JavaScript only; the build does it in the declarations too.
        expect(fileName, file).toMatch(/^\.\/[\w-]+\.js$/)
        expect(shipped, `${file} imports ${fileName}`).toContain(fileName.slice(2))
        expect(shipped, `${file} imports ${fileName}`).toContain(fileName.slice(2).replace(/\.js$/, '.d.ts'))
      }
    }
  })
})

// One check at a time (not describe.concurrent): each is seconds of CPU, and
// side by side on two cores every test's timeout would pay for all of them.
describe('a strict TypeScript consumer', () => {
  // On the repo's hono: hono 4.0.0's own declarations fail skipLibCheck: false
  // (a duplicate `render` in context.d.ts, and DOM types without lib DOM).
  it('type-checks app.ts and node.ts with Node types, skipLibCheck off', async () => {
    // TypeScript's default lib (with DOM): hono's WebSocket helper, which
    // @hono/node-server imports, needs DOM's MessageEvent and CloseEvent.
    await typecheck(current, 'tsconfig.node.json', { types: ['node'] }, ['app.ts', 'node.ts'])
  })

  it("type-checks app.ts and worker.ts with the Workers types of wrangler.toml's date and flags, skipLibCheck off", async () => {
    await run(bin('wrangler'), ['types'], current)
    // Bundler resolution, as Cloudflare's templates: the generated types
    // (`typeof import("./worker")`, `export =`) do not compile under NodeNext.
    const options = {
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2023'],
      types: ['./worker-configuration.d.ts'],
    }
    await typecheck(current, 'tsconfig.worker.json', options, ['app.ts', 'worker.ts'])
  })

  it('type-checks app.ts and bun.ts with Bun types', async () => {
    // skipLibCheck on: bun-types 1.4.5 fails its own check against
    // @types/node 22 (TextEncoderEncodeIntoResult, TLSSocket); ours are checked above.
    await typecheck(current, 'tsconfig.bun.json', { types: ['bun'], skipLibCheck: true }, ['app.ts', 'bun.ts'])
  })

  it('type-checks deno.ts with Deno', async () => {
    await run(bin('deno'), ['check', 'deno.ts'], current)
  })

  it('type-checks app.ts against hono 4.0.0, the oldest in the peer range, skipLibCheck on', async () => {
    await typecheck(oldest, 'tsconfig.oldest.json', { types: [], skipLibCheck: true }, ['app.ts', 'worker.ts'])
  })
})

describe('JSR', () => {
  it('has every export documented (deno doc --lint)', async () => {
    // --no-npm: Deno 2.9 flags hono's own types as private to us when it
    // finds hono in node_modules (denoland/deno#27364); only our files count.
    await run(
      bin('deno'),
      ['doc', '--lint', '--no-npm', 'src/lib/index.ts', 'src/lib/cloudflare.ts', 'src/lib/redis.ts'],
      repoRoot,
    )
  })

  it('publishes src/lib, README and LICENSE only, without slow types (deno publish --dry-run)', async ({ expect }) => {
    // --allow-dirty: the tests run on a work tree, not on a release commit.
    const { stdout, stderr } = await run(bin('deno'), ['publish', '--dry-run', '--allow-dirty'], repoRoot, {
      NO_COLOR: '1',
    })
    const output = stdout + stderr
    expect(output).toContain('Dry run complete')
    // One line per file: "   file:///…/src/lib/app.ts (4.03KB)".
    const root = pathToFileURL(repoRoot).href
    const files = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith(root))
      .map((line) => line.slice(root.length).replace(/ \([^)]*\)$/, ''))
    const expected = ['LICENSE', 'README.md', 'jsr.json', ...modules.map((module) => `src/lib/${module}.ts`)]
    expect(files.sort()).toEqual(expected.sort())
  })
})
