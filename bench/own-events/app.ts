/**
 * The own-events rows: edge-sse used the way a user serves their own events,
 * with `eventStreamResponse` and an async generator that waits on a
 * signal-aware sleep and yields `{ id, data }`, in a Hono app like the demo's.
 * Same bytes as the demo's /events (`retry: 3000`, then `Message 1..frames`),
 * so beside the edge-sse rows it shows what a user's generator costs against
 * the demo's hand-written iterator. Imported by one thin entry per runtime.
 */
import { Hono } from 'hono'
import { eventStreamResponse, type SourceContext } from '../../src/lib/index.ts'

/** Waits `ms`, or rejects at once when `signal` aborts, so a client who leaves stops the wait. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort)
      resolve()
    }, ms)
    const abort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', abort, { once: true })
  })
}

/** The app: GET /events streams `frames` messages, one every `intervalMs`. */
export function ownEventsApp(frames: number, intervalMs: number): Hono {
  async function* messages({ signal }: SourceContext) {
    for (let k = 1; k <= frames; k++) {
      await sleep(intervalMs, signal)
      yield { id: String(k), data: `Message ${k}` }
    }
  }
  const app = new Hono()
  app.get('/events', (c) => eventStreamResponse(c.req.raw, messages, { retry: 3000 }))
  return app
}
