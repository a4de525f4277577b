/**
 * A request body read up to a limit: a client that sends more (or says it
 * will) is refused without the server holding more than the limit.
 */

/** The body's bytes, or `undefined` when it is over `limit` bytes. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = request.headers.get('Content-Length')
  if (declared !== null && Number(declared) > limit) return undefined
  if (!request.body) return new Uint8Array()
  const parts: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return undefined
    }
    parts.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    body.set(part, offset)
    offset += part.byteLength
  }
  return body
}
