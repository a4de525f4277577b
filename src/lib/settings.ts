/**
 * Settings of the demo app, read from environment variables (Node, Bun, Deno)
 * or from Worker vars, or given in code, and validated so a typo fails loudly
 * at start instead of producing a stream that behaves strangely.
 */
import { checkToken } from './bearer.ts'

/** What every stream served by the app looks like. */
export interface Settings {
  /** Frames per stream, ids 1 to `frames` (`SSE_FRAMES`, default 5). */
  frames: number
  /** Milliseconds between frames (`SSE_INTERVAL_MS`, default 1000). */
  intervalMs: number
  /** Reconnection time sent to clients in the `retry:` field (`SSE_RETRY_MS`, default 3000). */
  retryMs: number
  /** Longest silence before a keep-alive comment (`SSE_KEEPALIVE_MS`, default 15000). */
  keepAliveMs: number
  /** Open streams allowed at once per app; 0 means no cap (`SSE_MAX_STREAMS`, default 0). */
  maxStreams: number
  /** Reconnection time given to clients turned away by the cap (`SSE_BUSY_RETRY_MS`, default 30000). */
  busyRetryMs: number
  /** Events held per topic, for clients that resume (`SSE_TOPIC_HISTORY`, default 100). */
  topicHistory: number
  /** Milliseconds a topic's event is held at most; 0: by count only (`SSE_TOPIC_HISTORY_MS`, default 3600000). */
  topicHistoryMs: number
}

/** One integer variable and its allowed range. */
export interface Rule {
  variable: string
  fallback: number
  min: number
  max: number
}

const HOUR_MS = 3_600_000

const RULES: Record<keyof Settings, Rule> = {
  frames: { variable: 'SSE_FRAMES', fallback: 5, min: 1, max: 1_000_000 },
  intervalMs: { variable: 'SSE_INTERVAL_MS', fallback: 1000, min: 1, max: HOUR_MS },
  retryMs: { variable: 'SSE_RETRY_MS', fallback: 3000, min: 0, max: HOUR_MS },
  keepAliveMs: { variable: 'SSE_KEEPALIVE_MS', fallback: 15_000, min: 10, max: HOUR_MS },
  maxStreams: { variable: 'SSE_MAX_STREAMS', fallback: 0, min: 0, max: 1_000_000 },
  busyRetryMs: { variable: 'SSE_BUSY_RETRY_MS', fallback: 30_000, min: 0, max: HOUR_MS },
  topicHistory: { variable: 'SSE_TOPIC_HISTORY', fallback: 100, min: 1, max: 100_000 },
  topicHistoryMs: { variable: 'SSE_TOPIC_HISTORY_MS', fallback: HOUR_MS, min: 0, max: 24 * HOUR_MS },
}

/** A setting that is not an integer in its allowed range. */
export class SettingsError extends Error {
  /** Always `'SettingsError'`, also after minification. */
  override name = 'SettingsError'
}

function eachSetting(read: (rule: Rule) => number): Settings {
  const settings = {} as Settings
  for (const key of Object.keys(RULES) as (keyof Settings)[]) settings[key] = read(RULES[key])
  return settings
}

/** The defaults, as a user who sets nothing gets them. */
export const defaultSettings: Settings = eachSetting((rule) => rule.fallback)

/** Reads one integer variable; unset or empty means its default. */
export function readInteger(env: Record<string, unknown>, { variable, fallback, min, max }: Rule): number {
  const raw = env[variable]
  if (raw === undefined || raw === '') return fallback
  const text = String(raw).trim()
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || value < min || value > max) {
    throw new SettingsError(`${variable} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`)
  }
  return value
}

/** `SSE_PUBLISH_TOKEN`, the bearer token of `POST /topics/:name`; unset or empty: publishing is off. */
export function readPublishToken(env: Record<string, unknown>): string | undefined {
  const raw = env.SSE_PUBLISH_TOKEN
  if (raw === undefined || raw === '') return undefined
  try {
    return checkToken('SSE_PUBLISH_TOKEN', raw)
  } catch (error) {
    throw new SettingsError((error as Error).message)
  }
}

/** Reads and validates every `SSE_*` setting; throws a {@link SettingsError} naming the first bad one. */
export function parseSettings(env: Record<string, unknown>): Settings {
  return eachSetting((rule) => readInteger(env, rule))
}

/** Checks settings given in code: known fields only, each an integer in its range; unset ones take the default. */
export function checkSettings(settings: Partial<Settings> = {}): Settings {
  const checked = { ...defaultSettings }
  for (const [key, value] of Object.entries(settings)) {
    // hasOwn: "toString" is not a setting.
    const rule = Object.hasOwn(RULES, key) ? RULES[key as keyof Settings] : undefined
    if (!rule) throw new SettingsError(`unknown setting "${key}"; the settings are ${Object.keys(RULES).join(', ')}`)
    if (value === undefined) continue
    if (!Number.isInteger(value) || value < rule.min || value > rule.max) {
      throw new SettingsError(
        `settings.${key} must be an integer from ${rule.min} to ${rule.max}, got ${String(value)}`,
      )
    }
    checked[key as keyof Settings] = value
  }
  return checked
}
