/**
 * Reads where a reconnecting client left off. Browsers send the id of the last
 * event they saw in the `Last-Event-ID` header; EventSource polyfills that
 * cannot set headers send a `lastEventId` query parameter instead.
 */

// Plain ASCII decimal only: our ids are "1".."N", and anything else (negative,
// "1e3", Unicode digits, 10,000 digits) is not an id we issued.
const DECIMAL_ID = /^[0-9]{1,15}$/

/**
 * The id the client already has, or 0 when it sent none or one we never issued;
 * a bad id restarts the stream rather than failing the request. The header wins
 * over the query parameter.
 */
export function lastEventId(request: Request): number {
  const header = request.headers.get('Last-Event-ID')
  // Most requests have no query: skip parsing the URL for them.
  const query = header === null && request.url.includes('?')
  const raw = query ? new URL(request.url).searchParams.get('lastEventId') : header
  if (raw === null || !DECIMAL_ID.test(raw)) return 0
  return Number(raw)
}
