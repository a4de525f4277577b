/**
 * The open streams of one server, for its stream cap and its shutdown. Share
 * one registry between `createApp()` and your own `eventStreamResponse()`
 * routes, and both count against one cap and both close on shutdown.
 */

/** What a registry needs of a stream: a way to close it between two events. */
export interface OpenStream {
  /** Closes the stream between two events; the client reconnects with its last id. */
  shutdown(): void
}

/** Options of a {@link StreamRegistry}. */
export interface StreamRegistryOptions {
  /** Open streams allowed at once; past it new ones are turned away. `0` means no cap. Default 0. */
  maxStreams?: number
  /** Reconnection time in milliseconds given to clients turned away by the cap. Default 30000. */
  busyRetryMs?: number
}

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`StreamRegistry: ${name} must be a non-negative integer, got ${String(value)}`)
  }
  return value
}

// Module-private access to a registry's set: only the stream engine adds and
// removes streams, so the class's public face is what a server operator uses.
let tracked: (registry: StreamRegistry) => Set<OpenStream>

/** The open streams of one server: what its cap counts and what its shutdown closes. */
export class StreamRegistry {
  /** Open streams allowed at once; `0` means no cap. */
  readonly maxStreams: number
  /** Reconnection time in milliseconds given to clients turned away by the cap. */
  readonly busyRetryMs: number
  // A Set, not an AbortSignal: thousands of listeners on one signal cost O(n²) to add.
  readonly #open = new Set<OpenStream>()
  #stopping = false

  static {
    tracked = (registry) => registry.#open
  }

  /** A registry with the given cap; throws a `TypeError` for a count that is not a non-negative integer. */
  constructor(options: StreamRegistryOptions = {}) {
    this.maxStreams = checkCount('maxStreams', options.maxStreams ?? 0)
    this.busyRetryMs = checkCount('busyRetryMs', options.busyRetryMs ?? 30_000)
  }

  /** Streams open right now. */
  get size(): number {
    return this.#open.size
  }

  /** Why a new stream would be turned away now (`'shutting down'`, `'too many open streams'`), or `undefined`. */
  get busy(): string | undefined {
    if (this.#stopping) return 'shutting down'
    if (this.maxStreams > 0 && this.#open.size >= this.maxStreams) return 'too many open streams'
    return undefined
  }

  /** Closes every open stream between two events and turns new ones away from now on. Idempotent. */
  shutdown(): void {
    this.#stopping = true
    for (const stream of this.#open) stream.shutdown()
  }

  /** Whether {@link StreamRegistry.shutdown} has been called. */
  get stopping(): boolean {
    return this.#stopping
  }
}

/** Adds an open stream; false when the registry is shutting down and takes no more. */
export function track(registry: StreamRegistry, stream: OpenStream): boolean {
  if (registry.stopping) return false
  tracked(registry).add(stream)
  return true
}

/** Removes a stream that has ended. */
export function untrack(registry: StreamRegistry, stream: OpenStream): void {
  tracked(registry).delete(stream)
}
