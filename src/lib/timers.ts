/**
 * The timers of the library's streams: the clock they are set by, and how
 * many are pending in this process (the number a leak would grow, read by
 * `/debug/streams` and the soak).
 */

// Times relative to the module's start stay small integers, which V8 and
// JavaScriptCore store in place rather than as a boxed number per write.
const EPOCH = Date.now()

/** Milliseconds since this module loaded. */
export const now = (): number => Date.now() - EPOCH

/** Incremented when a stream arms a timer, decremented when it fires or is cleared. */
export const armed = { count: 0 }

/** How many stream timers are pending in this process right now (0 when no stream waits). */
export function pendingTimers(): number {
  return armed.count
}

/**
 * Lets the process exit while `timer` is pending (a housekeeping timer, not
 * a stream's): Node and Bun give timers an `unref()`, Deno a global function.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer) (timer as { unref(): void }).unref()
  else (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer)
}
