/**
 * The one Redis connection a process reads topics on, whatever the number of
 * its clients and topics: a single loop of `XREAD BLOCK` over the streams of
 * every topic that has subscribers here, each from the last id it delivered.
 * What it reads goes to the topic's local history, which fans it out to the
 * local subscribers. A topic that starts being read interrupts the blocked
 * read (`CLIENT UNBLOCK`, sent on the commands connection), so it is read at
 * once instead of after the block times out.
 *
 * The connection is the user's client duplicated, with what a blocking loop
 * needs: it reconnects by itself with a bounded backoff, a read that finds it
 * down waits for it instead of queueing, and a read unanswered past its block
 * time means a dead connection, which is dropped and made again.
 */
import type { Redis } from 'ioredis'
import { reconnectDelay } from './redis-client.ts'
import type { RawEntry } from './redis-entries.ts'

/** How long a read blocks in Redis before it is sent again (an idle topic costs one round trip per period). */
const BLOCK_MS = 5000
/** Past the block time, how long an unanswered read waits before its connection counts as dead. */
const DEAD_AFTER_MS = 3000
/** Entries per stream and read: a long backlog after a reconnection comes in several reads. */
const COUNT = 100
/** After a read Redis refused while connected (a key of another type), the wait before the next one. */
const REFUSED_RETRY_MS = 1000

/** What the reader reads for. */
export interface ReaderSource {
  /** The streams to read and, for each, the id to read after. */
  positions(): { streams: string[]; ids: string[] }
  /** Entries read from `stream`, oldest first, on connection `session` ({@link RedisReader.session}). */
  deliver(stream: string, entries: RawEntry[], session: number): void
}

type XReadReply = [stream: string, entries: RawEntry[]][] | null

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export class RedisReader {
  readonly #commands: Redis
  readonly #connection: Redis
  readonly #source: ReaderSource
  // Changes each time the connection is made or lost: entries read in one
  // session come from one uninterrupted connection to one Redis.
  #session = 0
  // CLIENT ID of the connection, for CLIENT UNBLOCK; read again in each session.
  #clientId: number | undefined
  #clientIdSession = -1
  // The read Redis is blocked in now, if any.
  #reading: Promise<XReadReply> | undefined
  #unblocking: Promise<XReadReply> | undefined
  // Ends the loop's wait while there is nothing to read or the connection is down.
  #wait: (() => void) | undefined
  #closed = false

  /** Reads for `source` on a duplicate of `commands` (which sends the unblocking). */
  constructor(commands: Redis, source: ReaderSource) {
    this.#commands = commands
    this.#source = source
    const { connectionName } = commands.options
    this.#connection = commands.duplicate({
      connectionName: `${connectionName || 'edge-sse'}:reader`,
      lazyConnect: false,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      enableAutoPipelining: false,
      retryStrategy: reconnectDelay,
      socketTimeout: BLOCK_MS + DEAD_AFTER_MS,
      commandTimeout: undefined,
      blockingTimeout: undefined,
      // XREAD's reply as pairs, whatever the user's client maps RESP3 replies to.
      replyMapping: 'legacy',
    })
    this.#connection.on('ready', () => this.#newSession())
    this.#connection.on('close', () => this.#newSession())
    // Lost connections are the loop's business: ioredis would log each attempt otherwise.
    this.#connection.on('error', () => {})
    this.#run()
  }

  /** The session entries read now would be delivered in, or `undefined` while the connection is down. */
  get session(): number | undefined {
    return this.#connection.status === 'ready' ? this.#session : undefined
  }

  /** The streams to read have changed: read them now, even if Redis is blocked in a read of the others. */
  wake(): void {
    this.#resume()
    const reading = this.#reading
    if (reading && this.#unblocking !== reading) {
      this.#unblocking = reading
      this.#unblock(reading)
    }
  }

  /** Stops reading and closes the connection. */
  close(): void {
    this.#closed = true
    this.#connection.disconnect()
    this.#resume()
  }

  #newSession(): void {
    this.#session++
    this.#resume()
  }

  #resume(): void {
    const resume = this.#wait
    this.#wait = undefined
    resume?.()
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.#wait = resolve
    })
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      if (this.#connection.status !== 'ready') {
        await this.#sleep() // until the connection is back ('ready')
        continue
      }
      const session = this.#session
      let reply: XReadReply
      try {
        if (this.#clientIdSession !== session) {
          this.#clientId = await this.#connection.client('ID')
          this.#clientIdSession = session
          continue
        }
        // From here to the read going out, nothing waits: a wake() either
        // comes before and is in the positions, or after and unblocks the read.
        const { streams, ids } = this.#source.positions()
        if (streams.length === 0) {
          await this.#sleep() // until a topic is read here
          continue
        }
        const read = this.#connection.xread('COUNT', COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...streams, ...ids)
        this.#reading = read as Promise<XReadReply>
        reply = await this.#reading
      } catch {
        // Lost with its connection, which comes back by itself and wakes the
        // loop; refused by Redis on a live connection: not again at once.
        if (this.#session === session && !this.#closed) await sleep(REFUSED_RETRY_MS)
        continue
      } finally {
        this.#reading = undefined
      }
      for (const [stream, entries] of reply ?? []) this.#source.deliver(stream, entries, session)
    }
  }

  // CLIENT UNBLOCK may reach Redis before the read it is meant for (two
  // connections, no order between them): then it finds nothing blocked, and
  // is sent again, a little later each time, until that read has returned.
  async #unblock(reading: Promise<XReadReply>): Promise<void> {
    for (let delay = 2; this.#reading === reading && !this.#closed; delay = Math.min(delay * 2, 200)) {
      const clientId = this.#clientId
      if (this.#commands.status === 'ready' && clientId !== undefined) {
        const unblocked = await this.#commands.client('UNBLOCK', clientId).catch(() => 0)
        if (unblocked === 1) return
      }
      await sleep(delay)
    }
  }
}
