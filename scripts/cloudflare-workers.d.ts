/**
 * `cloudflare:workers` as far as building dist/ needs it: the base class of
 * TopicObject (src/lib/topic-object.ts). Only its name reaches the emitted
 * declarations, which a Workers project resolves with its own runtime types
 * (`wrangler types`); tsconfig.worker.json checks the same code against those.
 */
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    constructor(ctx: import('../src/lib/topic-storage.ts').TopicObjectState, env: Env)
  }
}
