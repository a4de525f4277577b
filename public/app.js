// Shows one EventSource stream: its state, each message with its arrival time,
// the last event id and how often the browser reconnected. Everything from the
// network goes in with textContent, never as HTML.

const stateEl = document.getElementById('state')
const lastIdEl = document.getElementById('last-id')
const reconnectsEl = document.getElementById('reconnects')
const messagesEl = document.getElementById('messages')
const emptyEl = document.getElementById('empty')

// Reconnects counts reconnect attempts: 'error' events while the source is
// CONNECTING, each of which means the browser will try again after the retry
// time. Counting 'open' events would miss the last attempt, which the server
// answers with 204 No Content, so it never opens.
let reconnects = 0

/** @param {'connecting' | 'open' | 'reconnecting' | 'finished'} state */
function showState(state) {
  stateEl.dataset.state = state
  stateEl.textContent = state
}

/** Seconds since the page started loading, e.g. "+1.02 s". */
function sincePageOpen(ms) {
  return `+${(ms / 1000).toFixed(2)} s`
}

// Relative, so the request goes to the app's own path when it is mounted.
const source = new EventSource('events')

source.addEventListener('open', () => showState('open'))

source.addEventListener('message', (event) => {
  const at = performance.now()
  const item = document.createElement('li')
  item.dataset.id = event.lastEventId
  item.dataset.at = String(Math.round(at))

  const time = document.createElement('span')
  time.className = 'at'
  time.textContent = sincePageOpen(at)

  const data = document.createElement('span')
  data.className = 'data'
  data.textContent = event.data

  item.append(time, data)
  messagesEl.append(item)
  emptyEl.hidden = true
  lastIdEl.textContent = event.lastEventId || 'none'
})

source.addEventListener('error', () => {
  // CLOSED means the browser gave up for good: the server answered the
  // reconnect with 204 (the normal end here) or with something not an event stream.
  if (source.readyState === EventSource.CLOSED) {
    showState('finished')
    return
  }
  reconnects += 1
  reconnectsEl.textContent = String(reconnects)
  showState('reconnecting')
})
