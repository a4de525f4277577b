/**
 * A Node, Bun or Deno server on a port the caller chooses, for a rolling
 * restart: the next process must listen where clients reconnect. servers.ts
 * always gives each server a fresh port; this is the fixed-port variant,
 * started the same way (the npm script's own command line, exec'd by a shell).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export const standaloneRuntimes = ['node', 'bun', 'deno'] as const
export type StandaloneRuntime = (typeof standaloneRuntimes)[number]

const root = new URL('../../', import.meta.url)
const scripts: Record<string, string> = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts

/** A listening server process. */
export interface FixedPortServer {
  /** Base URL, ending in `/`. */
  url: string
  /** Everything the server printed so far. */
  output(): string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
  /** Sends `signal` to the server. */
  signal(signal: NodeJS.Signals): void
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>
}

/** Starts `runtime`'s server on 127.0.0.1:`port` with `env` and resolves once it says it listens. */
export async function startServerOnPort(
  runtime: StandaloneRuntime,
  port: number,
  env: Record<string, string> = {},
): Promise<FixedPortServer> {
  // exec: the shell becomes the server, so signals and exit codes are the server's own.
  const child = spawn(`exec ${scripts[`start:${runtime}`]}`, {
    cwd: root,
    shell: true,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  let hasExited = false
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      hasExited = true
      resolve(code)
    }),
  )
  const signal = (name: NodeJS.Signals) => {
    if (!hasExited) child.kill(name)
  }
  const stop = async () => {
    signal('SIGTERM')
    const timer = setTimeout(() => signal('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  const url = `http://127.0.0.1:${port}/`
  const listening = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (text.includes(`listening on ${url}`)) resolve()
    }
    child.stdout.on('data', check)
    exited.then(() => reject(new Error(`${runtime} exited before listening on ${url}:\n${text}`)))
    setTimeout(() => reject(new Error(`${runtime} did not listen on ${url} in 20 s:\n${text}`)), 20_000).unref()
  })
  try {
    await listening
  } catch (error) {
    await stop()
    throw error
  }
  return { url, output: () => text, exited, signal, stop }
}
