/**
 * Node's HTTP/2 sessions, which node:http2 leaves to the application: a
 * session without an open stream for the header deadline gets GOAWAY (Node
 * has no header timeout for HTTP/2, so one that never sends a whole request
 * would stay forever), and shutdown sends GOAWAY to every session, idle ones
 * included (`Http2SecureServer.close()` otherwise waits for them).
 */
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2'

export interface Sessions {
  /** Sends GOAWAY to every session, and to each new one at once; each closes when its last stream ends. */
  close(): void
}

/** Watches the sessions of `server`. */
export function watchSessions(server: Http2SecureServer, deadlineMs: number): Sessions {
  const sessions = new Set<ServerHttp2Session>()
  let closing = false

  server.on('session', (session) => {
    if (closing) return session.close()
    sessions.add(session)
    // Armed whenever the session has no stream: from its start, while a
    // HEADERS frame is still incomplete (Node only sees whole ones), and
    // when its last stream has ended.
    let open = 0
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      timer = setTimeout(() => session.close(), deadlineMs)
    }
    session.on('stream', (stream) => {
      open++
      clearTimeout(timer)
      stream.once('close', () => {
        if (--open === 0 && !session.closed) arm()
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
      for (const session of sessions) session.close()
    },
  }
}
