/**
 * The one clock of the fan-out bench: the machine's monotonic clock in µs,
 * the same in every process (the publisher stamps each event with it, the
 * subscribers read it on arrival). `performance.now()` counts on that clock
 * from this process's start, so one `hrtime` read at load gives the offset.
 */
import { performance } from 'node:perf_hooks'
import process from 'node:process'

const originUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000

/** Now on the machine's monotonic clock, in µs. */
export function monotonicUs(): number {
  return originUs + performance.now() * 1000
}
