/**
 * The gap event: what a subscriber gets, in band and before anything else,
 * when the topic cannot give it every event after its position. `EventSource`
 * code listens for it (`source.addEventListener('gap', …)`) and reloads its
 * state, instead of losing events without knowing.
 */
import type { ServerSentEvent } from './encoder.ts'

/** The event type of a gap. Publishing an event of this type is refused. */
export const GAP_EVENT = 'gap'

/**
 * Why the topic could not resume the client:
 * - `malformed`: its `Last-Event-ID` is not an id of this kind of topic;
 * - `unknown`: not an id of this topic as it is now (an earlier instance of it: a restarted process, a
 *   store that was emptied), or one it never issued;
 * - `expired`: older than the oldest event the topic still holds;
 * - `behind`: the client read more slowly than events came, and its position fell out of the history;
 * - `reset`: the store lost events it had (Redis restarted without its data).
 */
export type GapReason = 'malformed' | 'unknown' | 'expired' | 'behind' | 'reset'

/** The data of a gap event, as JSON. */
export interface GapInfo {
  /** Why the topic could not resume the client. */
  reason: GapReason
  /** The oldest id the topic still holds, or `null` when it holds none. */
  oldest: string | null
  /** The position the stream goes on from: live events after this id follow. */
  latest: string
}

/**
 * The gap event. Its `id` is the position live events follow from, so a
 * client that reconnects after it resumes from there, not from before the gap.
 */
export function gapEvent(info: GapInfo): ServerSentEvent {
  return Object.freeze({ event: GAP_EVENT, id: info.latest, data: JSON.stringify(info) })
}
