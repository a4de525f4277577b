/** Cloudflare Workers: `wrangler dev` or `wrangler deploy`, with wrangler.toml beside it. */
import { app } from './app.ts'

export default app
