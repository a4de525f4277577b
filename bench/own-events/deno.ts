/** Own-events on Deno: ownEventsApp() (app.ts) on `Deno.serve`. */
import { ownEventsApp } from './app.ts'

const app = ownEventsApp(Number(Deno.env.get('SSE_FRAMES') ?? 5), Number(Deno.env.get('SSE_INTERVAL_MS') ?? 1000))

Deno.serve({ hostname: Deno.env.get('HOST') ?? '127.0.0.1', port: Number(Deno.env.get('PORT') ?? 3000) }, app.fetch)
