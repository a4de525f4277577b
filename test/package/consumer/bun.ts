/** Bun: `bun bun.ts`. */
import { app } from './app.ts'
import { rooms } from './rooms.ts'

app.route('/rooms', rooms)

const server = Bun.serve({
  fetch: app.fetch,
  port: Number(Bun.env.PORT ?? 3000),
  // Bun closes a connection idle for 10 s by default, which would cut a quiet stream.
  idleTimeout: 0,
})
console.log(`listening on ${server.url}`)
