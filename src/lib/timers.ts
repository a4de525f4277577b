/**
 * Counts the timers the library's streams have pending in this process: the
 * number a leak would grow, read by `/debug/streams` and the soak.
 */

/** Incremented when a stream arms a timer, decremented when it fires or is cleared. */
export const armed = { count: 0 }

/** How many stream timers are pending in this process right now (0 when no stream waits). */
export function pendingTimers(): number {
  return armed.count
}
