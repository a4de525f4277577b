/**
 * The two Lua scripts the Redis store runs, each atomic in Redis: publishing
 * (the idempotency check, the entry with the id of the position before it,
 * the trims and the expiry, in one step that is applied whole or not at all)
 * and the snapshot a process starts a topic's local history from. ioredis
 * sends them by SHA (EVALSHA) and loads them again if Redis forgot them.
 */
import type { Redis } from 'ioredis'
import type { RawEntry } from './redis-entries.ts'

// The id of the position a new entry follows: the stream's last generated id
// (not its last entry's, which may have been deleted or trimmed), or 0-0.
const LAST_ID = `
local function lastId(key)
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
end
`

// KEYS: the stream, then the idempotency key if there is one.
// ARGV: history, historyMs, idempotencyMs, data, then the type if there is one.
const PUBLISH = `${LAST_ID}
if KEYS[2] then
  local used = redis.call('GET', KEYS[2])
  if used then return used end
end
local fields = {'p', lastId(KEYS[1]), 'd', ARGV[4]}
if ARGV[5] then
  fields[5] = 'e'
  fields[6] = ARGV[5]
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
local historyMs = tonumber(ARGV[2])
if historyMs > 0 then
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ms - historyMs)
  redis.call('PEXPIRE', KEYS[1], historyMs)
end
if KEYS[2] then
  redis.call('SET', KEYS[2], id, 'PX', ARGV[3])
end
return id
`

// KEYS: the stream. ARGV: how many entries. Its last generated id and its
// newest entries, newest first, as of one instant.
const SNAPSHOT = `${LAST_ID}
return {lastId(KEYS[1]), redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[1])}
`

/** The scripts, once defined on a client. */
interface Scripts {
  edgeSsePublish(keys: number, ...args: string[]): Promise<string>
  edgeSseSnapshot(key: string, count: string): Promise<[string, RawEntry[]]>
}

/** Defines the scripts on `redis` (once per client; defining them again changes nothing). */
export function defineScripts(redis: Redis): void {
  redis.defineCommand('edgeSsePublish', { lua: PUBLISH })
  redis.defineCommand('edgeSseSnapshot', { lua: SNAPSHOT, numberOfKeys: 1 })
}

/** What one publish writes. */
export interface PublishCall {
  stream: string
  /** The key that remembers this publish's id, or `undefined` for none. */
  idempotencyKey: string | undefined
  history: number
  historyMs: number
  idempotencyMs: number
  data: string
  event: string | undefined
}

/** Runs the publish script; resolves to the entry's id (or the id the idempotency key had). */
export function publishEntry(redis: Redis, call: PublishCall): Promise<string> {
  const keys = call.idempotencyKey === undefined ? [call.stream] : [call.stream, call.idempotencyKey]
  const args = [String(call.history), String(call.historyMs), String(call.idempotencyMs), call.data]
  if (call.event !== undefined) args.push(call.event)
  return (redis as unknown as Scripts).edgeSsePublish(keys.length, ...keys, ...args)
}

/** Runs the snapshot script: the stream's last generated id (`0-0` if it does not exist) and its newest `count` entries, newest first. */
export function snapshot(redis: Redis, stream: string, count: number): Promise<[string, RawEntry[]]> {
  return (redis as unknown as Scripts).edgeSseSnapshot(stream, String(count))
}
