/**
 * Node's HTTP/2 sessions, which node:http2 leaves to the application: a
 * session without an open stream for the header deadline is closed (Node has
 * no header timeout for HTTP/2, so one that never sends a whole request would
 * stay forever), and shutdown sends GOAWAY to every session, idle ones
 * included (`Http2SecureServer.close()` otherwise waits for them).
 */
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2'

export interface Sessions {
  /** GOAWAY to every session, now and to each new one: idle ones close at once, the others after their last stream. */
  close(): void
}

/** Watches the sessions of `server`. */
export function watchSessions(server: Http2SecureServer, deadlineMs: number): Sessions {
  // Each session and its count of open streams.
  const sessions = new Map<ServerHttp2Session, { open: number }>()
  let closing = false

  // destroy() sends GOAWAY, then closes the socket once written. close()
  // waits for open streams, and for the peer to close its side too: a peer
  // that reads nothing would keep the socket.
  const end = (session: ServerHttp2Session) => (sessions.get(session)?.open ? session.close() : session.destroy())

  server.on('session', (session) => {
    if (closing) return end(session)
    const state = { open: 0 }
    sessions.set(session, state)
    // Armed whenever the session has no stream: from its start, while a
    // HEADERS frame is incomplete (Node sees only whole ones), and once its
    // last stream has ended.
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      timer = setTimeout(() => session.destroy(), deadlineMs)
    }
    session.on('stream', (stream) => {
      clearTimeout(timer)
      state.open++
      stream.once('close', () => {
        if (--state.open === 0 && !session.closed && !session.destroyed) arm()
      })
    })
    session.once('close', () => {
      clearTimeout(timer)
      sessions.delete(session)
    })
    arm()
  })

  return {
    close() {
      closing = true
      for (const session of sessions.keys()) end(session)
    },
  }
}
