/**
 * Reads where a reconnecting client left off. Browsers send the id of the last
 * event they saw in the `Last-Event-ID` header; EventSource polyfills that
 * cannot set headers send a `lastEventId` query parameter instead.
 */

/**
 * The id the client already has, as it sent it, or `undefined` when it sent
 * none or an empty one (an empty id means "no id" to `EventSource`). The
 * header wins over the query parameter.
 */
export function lastEventId(request: Request): string | undefined {
  const header = request.headers.get('Last-Event-ID')
  // Most requests have no query: skip parsing the URL for them.
  const query = header === null && request.url.includes('?')
  const raw = query ? new URL(request.url).searchParams.get('lastEventId') : header
  return raw === null || raw === '' ? undefined : raw
}
