// Watches one topic live (topic.html?name=<topic>&types=<a,b>) and publishes
// to it with the publish token. Shows the connection state, the last event
// id, each event with its type, data, id and arrival time, and the gap event
// as a notice that events were missed. Everything from the network goes in
// with textContent, never as HTML.

// The server's rule for a topic name (TOPIC_NAME in src/lib/topic-routes.ts).
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,64}$/
// The server's rule for the token (src/lib/bearer.ts): it goes in a header.
const TOKEN = /^[\x21-\x7e]{16,256}$/
// The held events a page asks for when it opens.
const LAST = 20
const TOKEN_KEY = 'edge-sse:publish-token'

/** What each reason of a gap event means for this page. */
const GAP_REASONS = {
  malformed: 'the id this page resumed from is not an id of this topic',
  unknown: 'the server does not know the id this page had (it restarted, or the topic was emptied)',
  expired: 'the events after the last one shown are no longer held',
  behind: 'this page read too slowly and fell out of the history',
  reset: 'the server lost the events it held',
}

const $ = (id) => document.getElementById(id)
const stateEl = $('state')
const lastIdEl = $('last-id')
const reconnectsEl = $('reconnects')
const eventsEl = $('events')
const emptyEl = $('empty')
const pauseEl = $('pause')
const publishEl = $('publish')
const publishButton = $('publish-button')
const resultEl = $('publish-result')
const tokenEl = $('token')
const typeEl = $('event-type')
const dataEl = $('data')

const params = new URLSearchParams(location.search)
const name = params.get('name') ?? 'lobby'
// Types from the URL, e.g. "chat, alert". message is always shown and gap has
// its own notice; open and error are EventSource's own events.
const own = ['message', 'gap', 'open', 'error']
const types = [...new Set((params.get('types') ?? '').split(',').map((type) => type.trim()))].filter(
  (type) => type !== '' && !own.includes(type) && !/[\r\n]/.test(type),
)
// Relative, so requests go to the app's own path when it is mounted.
const topicUrl = `topics/${encodeURIComponent(name)}`

/** @type {EventSource | undefined} */
let source
// The id of the last event shown (or of the gap): where a resume goes on from.
let lastEventId = ''
let reconnects = 0

/** @param {'connecting' | 'open' | 'reconnecting' | 'paused' | 'closed'} state */
function showState(state) {
  stateEl.dataset.state = state
  stateEl.textContent = state
}

/** Adds an event's item to the list; its id is where a resume goes on from. */
function show(item, id) {
  item.dataset.id = id
  eventsEl.append(item)
  emptyEl.hidden = true
  lastEventId = id
  lastIdEl.textContent = id
}

function arrival() {
  const now = new Date()
  const time = document.createElement('time')
  time.className = 'at'
  time.dateTime = now.toISOString()
  time.textContent = now.toLocaleTimeString([], { hour12: false })
  return time
}

function span(className, text) {
  const el = document.createElement('span')
  el.className = className
  el.textContent = text
  return el
}

/** @param {MessageEvent} event */
function showEvent(event) {
  const item = document.createElement('li')
  item.dataset.type = event.type
  item.append(arrival(), span('type', event.type), span('data', event.data), span('id', event.lastEventId))
  show(item, event.lastEventId)
}

/** The notice of a gap event (`id`: where the stream goes on from; `oldest`: the oldest id held, or null). */
function showGap(id, reason, oldest) {
  const item = document.createElement('li')
  item.className = 'gap'
  item.dataset.reason = reason
  const why = Object.hasOwn(GAP_REASONS, reason) ? GAP_REASONS[reason] : 'the server gave no reason this page knows'
  const held = typeof oldest === 'string' ? `the oldest held is ${oldest}` : 'none is held'
  const text = span('data', ` (${reason}): ${why}. Live events follow; ${held}.`)
  const title = document.createElement('strong')
  title.textContent = 'Events were missed'
  text.prepend(title)
  item.append(arrival(), span('type', 'gap'), text, span('id', id))
  show(item, id)
}

/** Opens the stream: the last held events, or, after a pause, the events after the last one shown. */
function open() {
  const url =
    lastEventId === '' ? `${topicUrl}?last=${LAST}` : `${topicUrl}?lastEventId=${encodeURIComponent(lastEventId)}`
  source = new EventSource(url)
  source.addEventListener('open', () => showState('open'))
  for (const type of ['message', ...types]) source.addEventListener(type, showEvent)
  source.addEventListener('gap', (event) => {
    // Events were missed: say so (an app would reload its state here); live events follow.
    const { reason, oldest } = JSON.parse(event.data)
    showGap(event.lastEventId, reason, oldest)
  })
  source.addEventListener('error', () => {
    // CLOSED: the server answered with something that is not an event stream,
    // and the browser gave up; CONNECTING: it tries again after the retry time.
    if (source.readyState === EventSource.CLOSED) {
      showState('closed')
      return
    }
    reconnects += 1
    reconnectsEl.textContent = String(reconnects)
    showState('reconnecting')
  })
}

function togglePause() {
  const paused = pauseEl.getAttribute('aria-pressed') === 'true'
  pauseEl.setAttribute('aria-pressed', String(!paused))
  pauseEl.textContent = paused ? 'Pause' : 'Resume'
  if (paused) {
    showState('connecting')
    open()
  } else {
    source.close()
    showState('paused')
  }
}

function remember(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, token)
  } catch {
    // Storage is off: the token stays in the field only.
  }
}

function recalled() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? ''
  } catch {
    return ''
  }
}

/** @param {'pending' | 'ok' | 'error'} kind */
function showResult(kind, text) {
  resultEl.dataset.result = kind
  resultEl.textContent = text
}

/** Publishes the form's event: `POST topics/<name>` with the token; shows the id or the server's one-line reason. */
async function publish(submit) {
  submit.preventDefault()
  const token = tokenEl.value
  if (!TOKEN.test(token)) {
    showResult('error', 'The token is 16 to 256 printable ASCII characters without spaces.')
    return
  }
  remember(token)
  const type = typeEl.value
  const body = type === '' ? { data: dataEl.value } : { event: type, data: dataEl.value }
  publishButton.disabled = true
  showResult('pending', 'Publishing…')
  try {
    const response = await fetch(topicUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (response.status === 201) {
      const { id } = await response.json()
      const shown = type === '' || type === 'message' || types.includes(type)
      showResult('ok', `Published as ${id}${shown ? '' : `; this page does not show "${type}" events`}.`)
    } else {
      // Every refusal is one line saying why (401, 403, 413, 400, 503 …).
      const line = (await response.text()).split('\n')[0]
      showResult('error', `${response.status} ${line || response.statusText}`)
    }
  } catch (error) {
    showResult('error', `The server could not be reached: ${error instanceof Error ? error.message : error}`)
  } finally {
    publishButton.disabled = false
  }
}

$('name').value = name
$('types').value = types.join(', ')
tokenEl.value = recalled()
if (TOPIC_NAME.test(name)) {
  document.title = `edge-sse: topic ${name}`
  $('topic-name').textContent = name
  $('stream-url').textContent = `${topicUrl}?last=${LAST}`
  pauseEl.addEventListener('click', togglePause)
  publishEl.addEventListener('submit', publish)
  open()
} else {
  // Not sent to the server: it would refuse the name with 400.
  const error = $('name-error')
  error.textContent = `"${name}" is not a topic name: a topic name is 1 to 64 letters, digits, "-" or "_".`
  error.hidden = false
  $('topic-name').textContent = '(none)'
  showState('closed')
  pauseEl.disabled = true
  publishButton.disabled = true
}
