export { type AppOptions, createApp } from './app.ts'
export { encodeComment, encodeEvent, type ServerSentEvent } from './encoder.ts'
export { defaultSettings, parseSettings, type Settings, SettingsError } from './settings.ts'
export {
  createEventStream,
  defaultMessage,
  type EndReason,
  type EventStreamOptions,
  type OpenStream,
  pendingTimers,
  type StreamEnd,
} from './stream.ts'
