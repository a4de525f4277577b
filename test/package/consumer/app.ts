/**
 * The app that node.ts, bun.ts, deno.ts and worker.ts serve: edge-sse's demo
 * mounted under /sse, and a stream of your own at /ticks, three named JSON
 * events half a second apart, resumable from the client's Last-Event-ID.
 */
import { createApp, eventStreamResponse, type ServerSentEvent } from 'edge-sse'
import { Hono } from 'hono'

const TICKS = 3
const INTERVAL_MS = 500

/**
 * Waits `ms`, or rejects as soon as `signal` aborts. A source must wait with
 * its signal: on Workers, a timer of a request whose client has gone may
 * never fire, and the generator would never get to its `finally`.
 */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort)
      resolve()
    }, ms)
    signal.addEventListener('abort', abort, { once: true })
  })
}

/** Where a reconnecting client left off: the tick it saw last, if it is one we sent. */
function lastTick(lastEventId: string | undefined): number {
  // The header comes from the client: accept only the ids we send, "1" to "3".
  return lastEventId !== undefined && /^[1-9][0-9]*$/.test(lastEventId) && Number(lastEventId) <= TICKS
    ? Number(lastEventId)
    : 0
}

/** Ticks `first` to 3, each after a wait that ends at once if the client leaves. */
async function* ticks(first: number, signal: AbortSignal): AsyncGenerator<ServerSentEvent> {
  try {
    for (let n = first; n <= TICKS; n++) {
      await sleep(INTERVAL_MS, signal)
      yield { event: 'tick', id: String(n), data: JSON.stringify({ n, of: TICKS }) }
    }
  } finally {
    // Runs when the ticks are done, and as soon as the client leaves: release here what the source holds.
    console.log(signal.aborted ? 'ticks: the client left' : 'ticks: all sent')
  }
}

export const app = new Hono()

// GET /sse/events: Message 1 … Message 5, one a second.
app.route('/sse', createApp())

app.get('/ticks', (c) =>
  eventStreamResponse(
    c.req.raw,
    ({ lastEventId, signal }) => {
      const last = lastTick(lastEventId)
      // null answers 204: the client has every tick, and EventSource stops reconnecting.
      return last === TICKS ? null : ticks(last + 1, signal)
    },
    // Clients that lose the connection come back after 1 s, with their Last-Event-ID.
    { retry: 1000 },
  ),
)
