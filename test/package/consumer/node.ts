/** Node 22+: `node node.ts` (Node strips the types). */
import { serve } from '@hono/node-server'
import { app } from './app.ts'
import { rooms } from './rooms.ts'

app.route('/rooms', rooms)

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) =>
  console.log(`listening on http://localhost:${port}/`),
)
