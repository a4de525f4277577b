/** Own-events on Bun: ownEventsApp() (app.ts) on `Bun.serve`, with no idle timeout (Bun's 10 s would cut quiet streams). */
import { ownEventsApp } from './app.ts'

const app = ownEventsApp(Number(Bun.env.SSE_FRAMES ?? 5), Number(Bun.env.SSE_INTERVAL_MS ?? 1000))

Bun.serve({
  fetch: app.fetch,
  hostname: Bun.env.HOST ?? '127.0.0.1',
  port: Number(Bun.env.PORT ?? 3000),
  idleTimeout: 0,
})
