/**
 * A keep-alive in place of an event, for streams that share one keep-alive
 * timer instead of one each: a topic's subscribers are quiet together, so
 * the topic wakes its waiting cursors once a quiet period with this, and each
 * stream writes a `:` comment for it (a Durable Object may have at most
 * 10,000 timers; ten thousand subscribers of one topic need one).
 */
import type { ServerSentEvent } from './encoder.ts'

/** What a cursor hands its stream after a quiet period: written as a comment, not an event. */
export const KEEP_ALIVE: IteratorYieldResult<ServerSentEvent> = Object.freeze({ done: false, value: Object.freeze({}) })
