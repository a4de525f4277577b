/**
 * Deno: `deno run --allow-net --allow-env=PORT --unstable-no-legacy-abort deno.ts`.
 * Without that flag Deno also aborts `request.signal` after every complete
 * response, which is harmless here but logs a warning.
 */
import { app } from './app.ts'
import { rooms } from './rooms.ts'

app.route('/rooms', rooms)

Deno.serve(
  {
    port: Number(Deno.env.get('PORT') ?? 3000),
    onListen: ({ port }) => console.log(`listening on http://localhost:${port}/`),
  },
  app.fetch,
)
