/**
 * What every benchmark suite reads of the machine and how it starts what it
 * measures: the /proc counters of one process (its own, not a wrapper's),
 * machine-wide counters, and servers spawned with a raised fd limit on a free
 * port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { root } from './servers.ts'

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

export function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  return Number(m?.[1] ?? 0)
}

/** utime + stime of all threads, in ms. */
export function cpuMs(pid: number): number {
  // Fields after the ")" that ends comm: utime and stime are fields 14 and 15 of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0), so the peak is that of the load alone. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** Kernel-wide TcpExt ListenOverflows: accept queue full, SYN dropped. */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n')
  const i = lines.findIndex((l) => l.startsWith('TcpExt:'))
  const keys = lines[i]?.split(' ') ?? []
  const values = lines[i + 1]?.split(' ') ?? []
  return Number(values[keys.indexOf('ListenOverflows')] ?? 0)
}

/** Busy CPU time of the whole machine (all cores, /proc/stat), in ms. */
export function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/) ?? []
  return ([user, nice, system, irq, softirq, steal].reduce((s, v) => s + Number(v ?? 0), 0) * 1000) / CLK_TCK
}

/** This sandbox's hard limit on open files (root cannot raise it here). */
export const hardNofile = Number(
  readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1] ?? Number.POSITIVE_INFINITY,
)

/**
 * Spawns `argv` with `nofile` descriptors, raised by exec-ing through prlimit
 * (the pid stays the same). stdout goes to /dev/null; stderr is kept for errors.
 */
export function spawnLimited(argv: string[], env: NodeJS.ProcessEnv, nofile: number): ChildProcess {
  return spawn('prlimit', [`--nofile=${nofile}:${nofile}`, '--', ...argv], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}

export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (up) return
    await sleep(50)
  }
  throw new Error(`server not listening on ${port} after ${timeoutMs} ms`)
}

/**
 * A port free right now, from the kernel: a fixed range could be taken by
 * another server on the machine, and waitForPort would then measure that one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
