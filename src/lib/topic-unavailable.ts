/**
 * The one error a topic store rejects with when it cannot be reached (Redis
 * is down, a Durable Object failed), so that routes written once answer it the
 * same way on every store: the demo says 503 with `Retry-After`.
 */

/**
 * The store cannot be reached now. The publish may or may not have been
 * applied (the answer can be lost after the store applied it): retry with the
 * same idempotency key, and it is applied once.
 */
export class TopicUnavailableError extends Error {
  /** Always `'TopicUnavailableError'`, also after minification. */
  override name = 'TopicUnavailableError'
}
