/**
 * A child process whose output is watched, as the tests need of every server
 * they start: wait for a line, signal it and everything it started, stop it.
 */
import type { ChildProcess } from 'node:child_process'

/** A process started in a group of its own (`detached: true`), and what it printed. */
export interface WatchedProcess {
  /** Everything it printed so far, stdout and stderr. */
  output(): string
  /** Resolves with the match once `test` matches the output; rejects after `timeoutMs` or if the process exits first. */
  waitForOutput(test: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Resolves with the exit code once the process has exited and its output is all in `output()`. */
  exited: Promise<number | null>
  /** Sends `signal` to the process and everything it started (wrangler's workerd too). */
  signal(signal: NodeJS.Signals): void
  /** SIGTERM, then SIGKILL if it has not exited after 5 s. */
  stop(): Promise<void>
}

/** Watches `child`, named `name` in error messages. */
export function watchProcess(child: ChildProcess, name: string): WatchedProcess {
  const startedAt = performance.now()
  let text = ''
  let hasExited = false
  const watchers = new Set<() => void>()
  const notify = () => {
    for (const watcher of watchers) watcher()
  }
  const onData = (chunk: Buffer) => {
    text += chunk.toString()
    notify()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  // 'close', not 'exit': Node may emit 'exit' before the pipes are drained, so
  // output read on 'exit' can miss the last lines; 'close' comes after both end.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      hasExited = true
      notify()
      resolve(code)
    }),
  )

  const waitForOutput = (test: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = text.match(test)
        if (match) settle(() => resolve(match))
        else if (hasExited) {
          const how = child.signalCode ? `on ${child.signalCode}` : `with code ${child.exitCode}`
          const after = Math.round(performance.now() - startedAt)
          settle(() =>
            reject(new Error(`${name} exited ${how} ${after} ms after its start, before printing ${test}:\n${text}`)),
          )
        }
      }
      const timer = setTimeout(
        () => settle(() => reject(new Error(`${name} did not print ${test} in ${timeoutMs} ms:\n${text}`))),
        timeoutMs,
      )
      const settle = (then: () => void) => {
        clearTimeout(timer)
        watchers.delete(check)
        then()
      }
      watchers.add(check)
      check()
    })

  const signal = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal)
    } catch {
      // Already gone.
    }
  }
  const stop = async () => {
    if (hasExited) return
    signal('SIGTERM')
    const timer = setTimeout(() => signal('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  return { output: () => text, waitForOutput, exited, signal, stop }
}

/** Output `process` prints from now on, matched by `test`: lines printed earlier cannot be mistaken for it. */
export function printedFromNow(process: WatchedProcess, test: RegExp): Promise<RegExpMatchArray> {
  const offset = process.output().length
  const later = { [Symbol.match]: (text: string) => text.slice(offset).match(test) }
  return process.waitForOutput(later as unknown as RegExp)
}
